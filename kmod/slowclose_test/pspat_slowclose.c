// SPDX-License-Identifier: GPL-2.0
/*
 * pspat_slowclose.c - a test-only debugfs file, /sys/kernel/debug/
 * pspat_slowclose, whose release sleeps @close_ms. A process that holds
 * it open and exits closes it in do_exit(), after the sched_process_exit
 * tracepoint and before exit_notify(): for @close_ms it is on its way out
 * but not dead, as a task hanging in an NFS close would be. The selftests
 * use it for the arbiter's back-off while a mailbox waits for its owner.
 */
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/module.h>

static unsigned int close_ms = 5000;
module_param(close_ms, uint, 0644);
MODULE_PARM_DESC(close_ms, "milliseconds a close of the file sleeps");

static struct dentry *slowclose_file;

static int slowclose_release(struct inode *inode, struct file *file)
{
	msleep(READ_ONCE(close_ms));
	return 0;
}

static const struct file_operations slowclose_fops = {
	.owner		= THIS_MODULE,
	.open		= nonseekable_open,
	.release	= slowclose_release,
};

static int __init slowclose_init(void)
{
	slowclose_file = debugfs_create_file("pspat_slowclose", 0400, NULL,
					     NULL, &slowclose_fops);
	return 0;
}

static void __exit slowclose_exit(void)
{
	debugfs_remove(slowclose_file);
}

module_init(slowclose_init);
module_exit(slowclose_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("sch_pspat selftest helper: a file whose close sleeps");

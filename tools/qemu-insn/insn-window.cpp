// SPDX-License-Identifier: GPL-2.0
//
// insn-window: run a command inside the instruction-counting window of
// libqemu-insn.so (docs/insn-count.md). Runs in the guest; statically linked.
//
//   insn-window [--] CMD [ARGS...]  marker, fork/exec CMD, wait, marker;
//                                   exits with CMD's status (128+N if
//                                   signal N killed it; 127 if not found)
//   insn-window --mark              the marker once (toggles the window)
//   insn-window --span-loop N [lock]
//                                   a span (the per-vCPU marker) around a
//                                   loop of N iterations of 2 instructions
//                                   (dec, jnz), or of 3 with "lock" (lock
//                                   incq, dec, jnz): the counter's check
//                                   (selftests/test_insn_counter.sh); pin
//                                   it to one CPU
//
// The marker is `xchg %rbx,%rbx` (48 87 db), a no-op on any x86-64 CPU:
// without the plugin insn-window just runs CMD.

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

inline void Mark() {
  // The bytes, not the mnemonic: the plugin matches exactly these.
  asm volatile(".byte 0x48, 0x87, 0xdb" ::: "rbx", "memory");
}

int Usage() {
  fprintf(stderr,
          "usage: insn-window [--] CMD [ARGS...] | insn-window --mark |\n"
          "       insn-window --span-loop N [lock]\n");
  return 2;
}

// Span marker, N x (dec, jnz), span marker: 2N + the closing marker.
void SpanLoop(unsigned long n) {
  asm volatile(
      ".byte 0x48, 0x87, 0xc9\n\t"
      "1: dec %0\n\t"
      "jnz 1b\n\t"
      ".byte 0x48, 0x87, 0xc9"
      : "+r"(n)
      :
      : "rcx", "cc", "memory");
}

// The same with a locked increment: 3N + 1, N of them LOCK ops.
void SpanLoopLocked(unsigned long n) {
  unsigned long word = 0;
  asm volatile(
      ".byte 0x48, 0x87, 0xc9\n\t"
      "1: lock incq %1\n\t"
      "dec %0\n\t"
      "jnz 1b\n\t"
      ".byte 0x48, 0x87, 0xc9"
      : "+r"(n), "+m"(word)
      :
      : "rcx", "cc", "memory");
}

}  // namespace

int main(int argc, char** argv) {
  int first = 1;
  if (argc == 2 && strcmp(argv[1], "--mark") == 0) {
    Mark();
    return 0;
  }
  if ((argc == 3 || argc == 4) && strcmp(argv[1], "--span-loop") == 0) {
    char* end;
    unsigned long n = strtoul(argv[2], &end, 10);
    if (*end || n == 0 || (argc == 4 && strcmp(argv[3], "lock") != 0))
      return Usage();
    if (argc == 4)
      SpanLoopLocked(n);
    else
      SpanLoop(n);
    return 0;
  }
  if (argc > 1 && strcmp(argv[1], "--") == 0) first = 2;
  if (first >= argc) return Usage();
  if (first == 1 && argv[1][0] == '-') return Usage();

  Mark();
  pid_t pid = fork();
  if (pid == 0) {
    execvp(argv[first], argv + first);
    int err = errno;
    fprintf(stderr, "insn-window: %s: %s\n", argv[first], strerror(err));
    _exit(err == ENOENT ? 127 : 126);
  }
  int status = 0;
  int rc = 0;
  if (pid < 0) {
    fprintf(stderr, "insn-window: fork: %s\n", strerror(errno));
    rc = 125;
  } else {
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  Mark();
  return rc;
}

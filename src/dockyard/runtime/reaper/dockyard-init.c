/*
 * dockyard-init: the `--init` process, PID 1 of a container (Docker's docker-init / tini role).
 *
 *   dockyard-init [--] command [args...]
 *
 * Starts `command` as its child, forwards every signal it receives to that child, reaps every
 * process that dies in the container (orphans re-parent to PID 1), and exits with the child's
 * status: its exit code, or 128 + the signal that killed it. An exec failure exits 127
 * (not found) or 126 (anything else), as a shell would. Built static by scripts/setup.sh.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const int NOT_FORWARDED[] = {SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS, SIGTTIN, SIGTTOU};

static int is_forwarded(int sig) {
    for (size_t i = 0; i < sizeof NOT_FORWARDED / sizeof *NOT_FORWARDED; i++)
        if (NOT_FORWARDED[i] == sig)
            return 0;
    return 1;
}

static pid_t spawn(char **argv, const sigset_t *original) {
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    sigprocmask(SIG_SETMASK, original, NULL);
    execvp(argv[0], argv);
    int err = errno;
    fprintf(stderr, "dockyard-init: exec %s failed: %s\n", argv[0], strerror(err));
    _exit(err == ENOENT ? 127 : 126);
}

/* Reap every dead child; returns 1 once `child` is among them, with its status in *status. */
static int reap(pid_t child, int *status) {
    int found = 0, st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        if (pid == child) {
            *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            found = 1;
        }
    }
    return found;
}

int main(int argc, char **argv) {
    int first = (argc > 1 && strcmp(argv[1], "--") == 0) ? 2 : 1;
    if (first >= argc) {
        fprintf(stderr, "usage: dockyard-init [--] command [args...]\n");
        return 2;
    }
    sigset_t all, original;
    sigfillset(&all);
    for (size_t i = 0; i < sizeof NOT_FORWARDED / sizeof *NOT_FORWARDED; i++)
        sigdelset(&all, NOT_FORWARDED[i]);
    sigprocmask(SIG_SETMASK, &all, &original);
    signal(SIGTTIN, SIG_IGN);
    signal(SIGTTOU, SIG_IGN);
    pid_t child = spawn(argv + first, &original);
    if (child < 0) {
        perror("dockyard-init: fork");
        return 1;
    }
    int status = 0;
    for (;;) {
        siginfo_t info;
        int sig = sigwaitinfo(&all, &info);
        if (sig < 0)
            continue; /* EINTR */
        if (sig == SIGCHLD) {
            if (reap(child, &status))
                return status; /* the kernel kills what is left of the container after PID 1 */
        } else if (is_forwarded(sig)) {
            kill(child, sig);
        }
    }
}

/* A static probe run inside containers by the isolation tests.
 *
 *   sysprobe keyctl | unshare | init_module | mount
 *       try the syscall once; print "ok" or the errno's name (EPERM, ...)
 *   sysprobe exescan SECONDS
 *       until SECONDS pass, for every other process in /proc: readlink and open
 *       /proc/<pid>/exe; print "exe <pid> <target>" for each one that could be read,
 *       and at the end "denied <n>" (reads refused) and "ptrace-ok <n>" (processes whose
 *       exe was refused but which passed the ptrace access check, not yet a container binary)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int report(long rc) {
    if (rc == 0 || rc > 0) { puts("ok"); return 0; }
    const char *name = errno == EPERM ? "EPERM" : errno == ENOSYS ? "ENOSYS" : errno == EACCES ? "EACCES" : NULL;
    if (name) puts(name); else printf("errno%d\n", errno);
    return 0;
}

static int same_file(int fd, const char *path) {
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int exescan(int seconds) {
    time_t end = time(NULL) + seconds;
    long denied = 0, ptrace_ok = 0;
    char path[64], target[4096];
    pid_t self = getpid();
    while (time(NULL) < end) {
        DIR *proc = opendir("/proc");
        struct dirent *entry;
        while (proc && (entry = readdir(proc))) {
            pid_t pid = atoi(entry->d_name);
            if (pid <= 0 || pid == self) continue;
            snprintf(path, sizeof path, "/proc/%d/exe", pid);
            ssize_t n = readlink(path, target, sizeof target - 1);
            int fd = open(path, O_RDONLY);
            if (n >= 0) { target[n] = 0; printf("exe %d %s\n", pid, target); }
            if (fd >= 0) {
                /* refused to readlink, then opened: which file did it open? (it may have exec'd meanwhile) */
                if (n < 0) printf("exe %d %s\n", pid, same_file(fd, "/bin/busybox") ? "/bin/busybox"
                                                     : same_file(fd, "/probe/sysprobe") ? "/probe/sysprobe" : "(opened)");
                close(fd);
            }
            if (n < 0 && (errno == EACCES || errno == EPERM)) {
                denied++;
                /* the ptrace access check, without stopping anyone: EPERM, or EFAULT once allowed */
                char byte;
                struct iovec local = {&byte, 1}, remote = {(void *)4096, 1};
                if (process_vm_readv(pid, &local, 1, &remote, 1, 0) < 0 && errno != EPERM && errno != ESRCH) {
                    n = readlink(path, target, sizeof target - 1);  /* it may have exec'd meanwhile */
                    target[n < 0 ? 0 : n] = 0;
                    if (strcmp(target, "/bin/busybox") && strcmp(target, "/probe/sysprobe")) {
                        ptrace_ok++;
                        printf("ptrace %d %s\n", pid, target);
                    }
                }
            }
        }
        if (proc) closedir(proc);
        usleep(300);  /* leave the CPU to the execs being started */
    }
    printf("denied %ld\nptrace-ok %ld\n", denied, ptrace_ok);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *what = argv[1];
    if (!strcmp(what, "keyctl")) return report(syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0));
    if (!strcmp(what, "unshare")) return report(unshare(CLONE_NEWNS | CLONE_NEWUTS));
    if (!strcmp(what, "init_module")) {
        long rc = syscall(SYS_init_module, NULL, 0, "");
        if (rc < 0 && errno != EPERM) { puts("reached"); return 0; }  /* EINVAL, ENOSYS without modules */
        return report(rc);
    }
    if (!strcmp(what, "mount")) return report(mount("none", "/tmp", "tmpfs", 0, NULL));
    if (!strcmp(what, "exescan") && argc > 2) return exescan(atoi(argv[2]));
    return 2;
}

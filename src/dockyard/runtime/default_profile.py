"""dockyard's default seccomp profile, with the effect of Docker's, in Docker's profile format.

The policy, as Docker's (moby `profiles/seccomp/default.json`):

    default         every syscall not listed fails with EPERM
    always allowed  ALLOWED below: file, memory, signal, socket, time, ipc, scheduling calls
                    that stay inside the caller's namespaces
    by argument     socket() for every address family but AF_ALG (38) and AF_VSOCK (40);
                    personality() only for PER_LINUX, PER_LINUX32, UNAME26 and the query
                    0xffffffff; clone() without namespace flags (any clone with CAP_SYS_ADMIN)
    clone3          ENOSYS without CAP_SYS_ADMIN (libc falls back to clone, which is checked)
    by kernel       ptrace, process_vm_readv/writev from Linux 4.8 (earlier ones leak seccomp)
    by arch         the few arch-specific calls (arch_prctl, modify_ldt on x86, ...)
    by capability   CAP_GRANTS: a capability added with --cap-add unlocks its syscalls, so
                    CAP_SYS_ADMIN brings mount/unshare/setns, CAP_SYS_MODULE module
                    loading, CAP_SYS_PTRACE kcmp and pidfd_getfd, CAP_SYS_TIME settimeofday

Never allowed without a capability: keyctl/add_key/request_key (the keyring is not
namespaced), kexec, swapon, userfaultfd, open_by_handle_at, bpf, perf_event_open, and the
rest of what is not named here. `profile()` returns the document `seccomp.oci_profile`
resolves for one process's capabilities, like a --security-opt seccomp=<file> would.
"""

from __future__ import annotations

import functools

ALLOWED = """
_llseek _newselect accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod chown
chown32 clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 dup3
epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd
eventfd2 execve execveat exit exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark
fchdir fchmod fchmodat fchmodat2 fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock
fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex
futex_requeue futex_time64 futex_wait futex_waitv futex_wake futimesat get_robust_list get_thread_area getcpu
getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer
getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32
getrlimit getrusage getsid getsockname getsockopt gettid gettimeofday getuid getuid32 getxattr getxattrat
inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel io_destroy io_getevents io_pgetevents
io_pgetevents_time64 io_setup io_submit ioctl ioprio_get ioprio_set ipc kill landlock_add_rule
landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat listen listmount listxattr
listxattrat llistxattr lremovexattr lseek lsetxattr lstat lstat64 madvise map_shadow_stack membarrier
memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect
mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64
mq_unlink mremap mseal msgctl msgget msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep
newfstatat open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect
poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64
pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64
recvmsg remap_file_pages removexattr removexattrat rename renameat renameat2 restart_syscall riscv_hwprobe rmdir
rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait
rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_get_priority_max sched_get_priority_min sched_getaffinity
sched_getattr sched_getparam sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64
sched_setaffinity sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select semctl semget semop
semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto set_robust_list set_thread_area
set_tid_address setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid
setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32 setrlimit setsid
setsockopt setuid setuid32 setxattr setxattrat shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4
sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs statfs64 statmount statx symlink symlinkat
sync sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime
timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime
timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat uretprobe utime
utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev
""".split()

# capability -> the syscalls it unlocks
CAP_GRANTS = {
    "CAP_DAC_READ_SEARCH": "open_by_handle_at",
    "CAP_SYS_ADMIN": "bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie "
    "lsm_get_self_attr lsm_list_modules lsm_set_self_attr mount mount_setattr move_mount open_tree "
    "perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog umount umount2 unshare",
    "CAP_SYS_BOOT": "reboot",
    "CAP_SYS_CHROOT": "chroot",
    "CAP_SYS_MODULE": "delete_module init_module finit_module",
    "CAP_SYS_PACCT": "acct",
    "CAP_SYS_PTRACE": "kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace",
    "CAP_SYS_RAWIO": "iopl ioperm",
    "CAP_SYS_TIME": "settimeofday stime clock_settime clock_settime64",
    "CAP_SYS_TTY_CONFIG": "vhangup",
    "CAP_SYS_NICE": "get_mempolicy mbind set_mempolicy set_mempolicy_home_node",
    "CAP_SYSLOG": "syslog",
    "CAP_BPF": "bpf",
    "CAP_PERFMON": "perf_event_open",
}

# Go architecture names -> the syscalls only they have
ARCH_ONLY = (
    (("ppc64le",), "sync_file_range2 swapcontext"),
    (("arm", "arm64"), "arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls"),
    (("amd64", "x32"), "arch_prctl"),
    (("amd64", "x32", "x86"), "modify_ldt"),
    (("s390", "s390x"), "s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr"),
    (("riscv64",), "riscv_flush_icache"),
)

ARCH_MAP = {
    "SCMP_ARCH_X86_64": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "SCMP_ARCH_AARCH64": ["SCMP_ARCH_ARM"],
    "SCMP_ARCH_MIPS64": ["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"],
    "SCMP_ARCH_MIPS64N32": ["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"],
    "SCMP_ARCH_MIPSEL64": ["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"],
    "SCMP_ARCH_MIPSEL64N32": ["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"],
    "SCMP_ARCH_S390X": ["SCMP_ARCH_S390"],
    "SCMP_ARCH_RISCV64": [],
    "SCMP_ARCH_LOONGARCH64": [],
}

AF_ALG, AF_NFC, AF_VSOCK = 38, 39, 40  # socket families around the one left out
PERSONALITIES = (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)  # PER_LINUX, PER_LINUX32, UNAME26, both, query
NAMESPACE_FLAGS = 0x7E020000  # CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET


def _allow(names: str | list[str], **extra) -> dict:
    return {"names": names.split() if isinstance(names, str) else list(names), "action": "SCMP_ACT_ALLOW", **extra}


def _arg(index: int, op: str, value: int) -> list[dict]:
    return [{"index": index, "value": value, "op": f"SCMP_CMP_{op}"}]


def _argument_rules() -> list[dict]:
    rules = [
        _allow("socket", args=_arg(0, "LT", AF_ALG)),
        _allow("socket", args=_arg(0, "EQ", AF_NFC)),
        _allow("socket", args=_arg(0, "GT", AF_VSOCK)),
    ]
    rules += [_allow("personality", args=_arg(0, "EQ", value)) for value in PERSONALITIES]
    rules.append(
        _allow(
            "clone",
            args=_arg(0, "MASKED_EQ", NAMESPACE_FLAGS),
            excludes={"caps": ["CAP_SYS_ADMIN"], "arches": ["s390", "s390x"]},
        )
    )
    rules.append(
        _allow(
            "clone",
            args=_arg(1, "MASKED_EQ", NAMESPACE_FLAGS),  # s390 swaps clone's first two arguments
            includes={"arches": ["s390", "s390x"]},
            excludes={"caps": ["CAP_SYS_ADMIN"]},
        )
    )
    rules.append(
        {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "excludes": {"caps": ["CAP_SYS_ADMIN"]}}
    )
    return rules


@functools.cache
def profile() -> dict:
    """The default profile as a Docker-format document (conditions unresolved): one document,
    shared by every caller, which reads it and never changes it."""
    rules = [_allow(ALLOWED), _allow("process_vm_readv process_vm_writev ptrace", includes={"minKernel": "4.8"})]
    rules += _argument_rules()
    rules += [_allow(names, includes={"arches": list(arches)}) for arches, names in ARCH_ONLY]
    rules += [_allow(names, includes={"caps": [cap]}) for cap, names in CAP_GRANTS.items()]
    return {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "archMap": [{"architecture": arch, "subArchitectures": subs} for arch, subs in ARCH_MAP.items()],
        "syscalls": rules,
    }

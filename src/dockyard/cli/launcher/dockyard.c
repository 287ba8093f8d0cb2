/*
 * dockyard: the command users type. It hands the command line to a warm CLI server
 * (dockyard.cli.commandserver), which forks a child with the CLI already imported to run it,
 * and falls back to the Python entry point whenever that cannot be done
 * (docs/decisions/0085-cli-command-server.md). Mercurial's chg works the same way.
 *
 *   DOCKYARD_CLI_SERVER=0 dockyard ...   always the Python entry point
 *   DOCKYARD_CLI_DIR=/DIR dockyard ...   the servers' sockets in DIR (default: see open_socket_dir)
 *
 * The request is one SOCK_SEQPACKET packet of NUL-terminated fields: "dockyard-cli 3", the
 * umask (octal), the signals this process ignores and the ones it blocks (hex masks, bit
 * N-1 for signal N), argc, argv, the number of environment entries and the entries; with
 * descriptors 0, 1, 2 and an O_PATH descriptor of the cwd attached (SCM_RIGHTS). The server
 * answers "pid N" with the child's pidfd attached, and later "exit N" or "signal N"; or
 * "fallback" (nothing ran: run the Python entry point) or "restart" (its code changed on
 * disk: it exits, this starts a new one and runs the Python entry point). Signals this
 * process receives are forwarded to the child through the pidfd (see install_forwarding).
 * Built static by scripts/setup.sh with -DPYTHON and -DENTRY_POINT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef PYTHON
#define PYTHON "/opt/dockyard/venv/bin/python"
#endif
#ifndef ENTRY_POINT
#define ENTRY_POINT "/opt/dockyard/venv/bin/dockyard"
#endif

extern char **environ;

static const int FORWARDED[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM, SIGCONT, SIGTSTP};
static volatile int child_pidfd = -1;

static void fall_back(char **argv) {
    argv[0] = ENTRY_POINT;
    execv(ENTRY_POINT, argv);
    fprintf(stderr, "dockyard: exec %s: %s\n", ENTRY_POINT, strerror(errno));
    _exit(127);
}

/* The environment variables that change what the Python CLI does at start-up: a server is
 * only shared by commands that agree on them (its socket is named by their hash). */
static int shapes_interpreter(const char *entry) {
    return strncmp(entry, "PYTHON", 6) == 0 || strncmp(entry, "LC_", 3) == 0 || strncmp(entry, "LANG=", 5) == 0;
}

static int compare_strings(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint64_t fnv1a(uint64_t hash, const char *text) {
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        hash = (hash ^ *p) * 0x100000001b3ULL;
    return (hash ^ '\n') * 0x100000001b3ULL;
}

static uint64_t identity(void) {
    size_t count = 0, n = 0;
    for (char **e = environ; *e; e++)
        count++;
    char **picked = calloc(count + 1, sizeof *picked);
    if (picked == NULL)
        return 0;
    for (char **e = environ; *e; e++)
        if (shapes_interpreter(*e))
            picked[n++] = *e;
    qsort(picked, n, sizeof *picked, compare_strings);
    uint64_t hash = fnv1a(0xcbf29ce484222325ULL, PYTHON);
    for (size_t i = 0; i < n; i++)
        hash = fnv1a(hash, picked[i]);
    free(picked);
    return hash;
}

static int owned_by_me(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid();
}

/* The servers' directory, opened: $DOCKYARD_CLI_DIR (absolute), else
 * $XDG_RUNTIME_DIR/dockyard-cli when this user owns $XDG_RUNTIME_DIR, else
 * /tmp/dockyard-cli-UID; made 0700 and used only as a directory this user owns that nobody
 * else can enter. The socket is reached through the open descriptor (/proc/self/fd/N/...),
 * so the path cannot be swapped between this check and the connect. -1 if unusable. */
static int open_socket_dir(char *path, size_t size) {
    const char *dir = getenv("DOCKYARD_CLI_DIR");
    const char *runtime = getenv("XDG_RUNTIME_DIR");
    int written;
    if (dir != NULL && *dir)
        written = *dir == '/' ? snprintf(path, size, "%s", dir) : -1;
    else if (runtime != NULL && *runtime == '/' && owned_by_me(runtime))
        written = snprintf(path, size, "%s/dockyard-cli", runtime);
    else
        written = snprintf(path, size, "/tmp/dockyard-cli-%u", (unsigned)getuid());
    if (written < 0 || (size_t)written >= size)
        return -1;
    mkdir(path, 0700);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || st.st_uid != getuid() || (st.st_mode & 077) != 0)) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Start a server for this socket, detached: its own session, every signal at its default,
 * stdio on /dev/null, cwd /. */
static void spawn_server(const char *path) {
    pid_t first = fork();
    if (first < 0)
        return;
    if (first == 0) {
        setsid();
        if (fork() != 0)
            _exit(0);
        int null = open("/dev/null", O_RDWR);
        if (null < 0 || chdir("/") != 0)
            _exit(1);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        closefrom(3);
        for (int sig = 1; sig < NSIG; sig++)
            signal(sig, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execl(PYTHON, PYTHON, "-P", "-c", "from dockyard.cli.commandserver import main; raise SystemExit(main())", path,
              (char *)NULL);
        _exit(127);
    }
    waitpid(first, NULL, 0);
}

/* A growing buffer of NUL-terminated strings. */
struct packet {
    char *data;
    size_t length, capacity;
};

static int append(struct packet *p, const char *text) {
    size_t n = strlen(text) + 1;
    if (p->length + n > p->capacity) {
        size_t capacity = (p->capacity + n) * 2;
        char *data = realloc(p->data, capacity);
        if (data == NULL)
            return -1;
        p->data = data;
        p->capacity = capacity;
    }
    memcpy(p->data + p->length, text, n);
    p->length += n;
    return 0;
}

static unsigned long long ignored_signals(void) {
    unsigned long long mask = 0;
    for (int sig = 1; sig < NSIG && sig <= 64; sig++) {
        struct sigaction current;
        if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, NULL, &current) == 0 && current.sa_handler == SIG_IGN)
            mask |= 1ULL << (sig - 1);
    }
    return mask;
}

static unsigned long long blocked_signals(const sigset_t *set) {
    unsigned long long mask = 0;
    for (int sig = 1; sig < NSIG && sig <= 64; sig++)
        if (sigismember(set, sig) == 1)
            mask |= 1ULL << (sig - 1);
    return mask;
}

static int build_request(struct packet *p, int argc, char **argv, unsigned long long ignored, const sigset_t *blocked) {
    char number[32];
    mode_t mask = umask(0);
    umask(mask);
    int failed = append(p, "dockyard-cli 3");
    snprintf(number, sizeof number, "%o", (unsigned)mask);
    failed |= append(p, number);
    snprintf(number, sizeof number, "%llx", ignored);
    failed |= append(p, number);
    snprintf(number, sizeof number, "%llx", blocked_signals(blocked));
    failed |= append(p, number);
    snprintf(number, sizeof number, "%d", argc);
    failed |= append(p, number);
    for (int i = 0; i < argc; i++)
        failed |= append(p, argv[i]);
    size_t count = 0;
    for (char **e = environ; *e; e++)
        count++;
    snprintf(number, sizeof number, "%zu", count);
    failed |= append(p, number);
    for (char **e = environ; *e; e++)
        failed |= append(p, *e);
    return failed ? -1 : 0;
}

static int send_request(int sock, const struct packet *p, int cwd) {
    int fds[4] = {0, 1, 2, cwd};
    char control[CMSG_SPACE(sizeof fds)];
    memset(control, 0, sizeof control);
    struct iovec iov = {.iov_base = p->data, .iov_len = p->length};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(cmsg), fds, sizeof fds);
    /* a request larger than the socket's buffer (a huge environment) cannot be one packet */
    int size = (int)p->length + 4096;
    setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    return sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)p->length ? 0 : -1;
}

/* One reply packet, NUL-terminated, and the descriptor that came with it (*fd, else -1);
 * 0 at the server's end of the connection, -1 on error. */
static ssize_t receive(int sock, char *reply, size_t size, int *fd) {
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = reply, .iov_len = size - 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    *fd = -1;
    for (;;) {
        ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        if (n >= 0) {
            reply[n] = '\0';
            struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
            if (cmsg != NULL && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
                cmsg->cmsg_len == CMSG_LEN(sizeof(int)))
                memcpy(fd, CMSG_DATA(cmsg), sizeof(int));
            return n;
        }
        if (errno != EINTR)
            return -1;
    }
}

static void signal_child(int sig) {
    if (child_pidfd >= 0)
        syscall(SYS_pidfd_send_signal, child_pidfd, sig, NULL, 0);
}

static void forward(int sig) {
    int saved = errno;
    if (sig == SIGTSTP) {
        /* the child is in no session with a terminal, where the kernel would drop a SIGTSTP:
         * stop it outright, then stop here as a shell expects (unblocked, the default SIGTSTP
         * stops this process at once, or is dropped in an orphaned process group); once this
         * goes on, so does the child */
        signal_child(SIGSTOP);
        signal(SIGTSTP, SIG_DFL);
        raise(SIGTSTP);
        sigset_t tstp;
        sigemptyset(&tstp);
        sigaddset(&tstp, SIGTSTP);
        sigprocmask(SIG_UNBLOCK, &tstp, NULL);
        signal_child(SIGCONT);
        struct sigaction again = {.sa_handler = forward};
        sigemptyset(&again.sa_mask);
        sigaction(SIGTSTP, &again, NULL);
    } else {
        signal_child(sig);
    }
    errno = saved;
}

/* Every forwarded signal is caught and passed on, ignored by the caller or not: the child
 * starts with the caller's dispositions and may set a handler of its own (`run` proxies
 * SIGINT to the container even where its caller ignored it). A SIGTSTP the caller ignores
 * stays ignored: this process acts on it itself. */
static void install_forwarding(unsigned long long ignored) {
    struct sigaction action = {.sa_handler = forward};
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < sizeof FORWARDED / sizeof *FORWARDED; i++)
        if (FORWARDED[i] != SIGTSTP || !(ignored & (1ULL << (SIGTSTP - 1))))
            sigaction(FORWARDED[i], &action, NULL);
}

/* Descriptors 0-2 open and not directories, and this process not a background job on a
 * terminal among them (the child has no controlling terminal: job control could not stop it
 * reading or setting that terminal). */
static int stdio_usable(void) {
    for (int fd = 0; fd < 3; fd++) {
        struct stat st;
        if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode))
            return 0;
        if (isatty(fd)) {
            pid_t foreground = tcgetpgrp(fd);
            if (foreground != -1 && foreground != getpgrp())
                return 0;
        }
    }
    return 1;
}

/* `dockyard daemon` and `dockyard registry` are long-lived programs of their own: they go
 * straight to the entry point, and start no CLI server (the global flags with a value are
 * the ones dockyard.cli.main.split_globals knows). */
static int is_a_server_verb(int argc, char **argv) {
    static const char *const valued[] = {"-H", "--host", "--config", "-c", "--context", "-l", "--log-level"};
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-')
            return strcmp(argv[i], "daemon") == 0 || strcmp(argv[i], "registry") == 0;
        for (size_t k = 0; k < sizeof valued / sizeof *valued; k++)
            if (strcmp(argv[i], valued[k]) == 0) {
                i++;
                break;
            }
    }
    return 0;
}

/* Connected to the server through the directory's descriptor, and the server is this user. */
static int connect_server(int dir, const char *name) {
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    int written = snprintf(address.sun_path, sizeof address.sun_path, "/proc/self/fd/%d/%s", dir, name);
    int sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (sock < 0 || written < 0 || (size_t)written >= sizeof address.sun_path ||
        connect(sock, (struct sockaddr *)&address, sizeof address) != 0) {
        if (sock >= 0)
            close(sock);
        return -1;
    }
    struct ucred peer;
    socklen_t length = sizeof peer;
    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0 || peer.uid != getuid()) {
        close(sock);
        return -2; /* a socket of somebody else's: never theirs to run our commands */
    }
    return sock;
}

int main(int argc, char **argv) {
    const char *switch_ = getenv("DOCKYARD_CLI_SERVER");
    char dir_path[3800], path[4096], name[64];
    int dir = -1;
    if ((switch_ != NULL && strcmp(switch_, "0") == 0) || is_a_server_verb(argc, argv) || !stdio_usable() ||
        (dir = open_socket_dir(dir_path, sizeof dir_path)) < 0)
        fall_back(argv);
    snprintf(name, sizeof name, "server-%016llx.sock", (unsigned long long)identity());
    snprintf(path, sizeof path, "%s/%s", dir_path, name);
    if (strlen(path) >= sizeof((struct sockaddr_un *)0)->sun_path)
        fall_back(argv); /* the server binds the whole path: it could never listen there */
    int sock = connect_server(dir, name);
    if (sock < 0) {
        if (sock == -1)
            spawn_server(path);
        fall_back(argv);
    }
    int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cwd < 0)
        fall_back(argv);

    struct packet request = {0};
    sigset_t all, original;
    sigfillset(&all);
    /* signals wait until the child's pidfd is known, then reach it */
    sigprocmask(SIG_BLOCK, &all, &original);
    unsigned long long ignored = ignored_signals();
    if (build_request(&request, argc, argv, ignored, &original) != 0 || send_request(sock, &request, cwd) != 0) {
        sigprocmask(SIG_SETMASK, &original, NULL);
        fall_back(argv);
    }
    free(request.data);
    close(cwd);
    close(dir);

    char reply[64];
    int pidfd;
    ssize_t n = receive(sock, reply, sizeof reply, &pidfd);
    if (n <= 0 || strcmp(reply, "fallback") == 0 || strcmp(reply, "restart") == 0) {
        /* nothing ran: the Python entry point runs the command (a new server for the next) */
        close(sock);
        if (n > 0 && strcmp(reply, "restart") == 0)
            spawn_server(path);
        sigprocmask(SIG_SETMASK, &original, NULL);
        fall_back(argv);
    }
    if (strncmp(reply, "pid ", 4) != 0) {
        fprintf(stderr, "dockyard: unexpected answer from the CLI server: %s\n", reply);
        return 1;
    }
    child_pidfd = pidfd; /* the child itself, whatever becomes of its PID (none: no forwarding) */
    install_forwarding(ignored);
    sigprocmask(SIG_SETMASK, &original, NULL);

    int none;
    n = receive(sock, reply, sizeof reply, &none);
    if (n > 0 && strncmp(reply, "exit ", 5) == 0)
        return atoi(reply + 5);
    if (n > 0 && strncmp(reply, "signal ", 7) == 0) {
        int sig = atoi(reply + 7);
        signal(sig, SIG_DFL);
        sigset_t only;
        sigemptyset(&only);
        sigaddset(&only, sig);
        sigprocmask(SIG_UNBLOCK, &only, NULL);
        raise(sig);
        return 128 + sig;
    }
    signal_child(SIGKILL); /* no server to report its end: it ends here */
    fprintf(stderr, "dockyard: the CLI server went away while the command ran\n");
    return 1;
}

/*
 * childinfo.c - what a process run by cancelrun sees, from its own side.
 *
 * The command-line tests run this program as the command and read what it
 * prints, one item a line:
 *
 *	pid N
 *	pgid N
 *	sid N
 *	ppid N
 *	sigblk HEX	(the SigBlk, SigIgn and SigCgt lines of
 *	sigign HEX	 /proc/self/status, as the kernel prints them)
 *	sigcgt HEX
 *	fds 0 1 2	(the open descriptors, from /proc/self/fd)
 *
 * Everything is collected first, before this program installs a handler
 * or opens a file of its own, so the report is the state the process was
 * started in.  Options, which may be combined:
 *
 *	--ignore-term		ignore TERM, then sleep 30 s and exit 0
 *	--trap SIG FILE		catch SIG; on receipt append "got SIG" to FILE
 *				and exit 0
 *	--wait-signal FILE	also write the report to FILE (complete: it is
 *				written beside FILE and renamed), then pause()
 *				until a signal arrives
 *
 * The report reaches stdout (flushed) only once the signal dispositions
 * asked for are in place, so a test that sees output may signal at once.
 * It does not use libcancelrun.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define REPORT_MAX	4096
#define FDS_MAX		256
#define IGNORE_SLEEP	30

static const struct {
	const char *name;
	int number;
} signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "ABRT", SIGABRT }, { "KILL", SIGKILL }, { "USR1", SIGUSR1 },
	{ "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },
	{ "TERM", SIGTERM }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT },
	{ "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },
	{ "WINCH", SIGWINCH },
};

static volatile sig_atomic_t caught;

static void
usage(void)
{
	fprintf(stderr, "usage: childinfo [--ignore-term] [--trap SIG FILE] "
	    "[--wait-signal FILE]\n");
	exit(2);
}

static void
die(const char *what, const char *subject)
{
	fprintf(stderr, "childinfo: %s '%s': %s\n", what, subject,
	    strerror(errno));
	exit(2);
}

/* A signal by name (TERM, SIGTERM, term) or by number; 0 if unknown. */
static int
signal_parse(const char *s)
{
	size_t i;
	char *end;
	long n;

	if (isdigit((unsigned char)*s)) {
		n = strtol(s, &end, 10);
		return *end == '\0' && n > 0 && n < NSIG ? (int)n : 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (strcasecmp(s, signals[i].name) == 0)
			return signals[i].number;
	return 0;
}

static const char *
signal_name(int sig)
{
	size_t i;

	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (signals[i].number == sig)
			return signals[i].name;
	return "?";
}

static int
compare_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Append "KEY VALUE\n" to the report for the status line "Field:\tVALUE". */
static size_t
add_status(char *report, size_t len, const char *field, const char *key)
{
	char line[256], *value;
	size_t flen = strlen(field);
	FILE *f;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		die("cannot open", "/proc/self/status");
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, field, flen) != 0 || line[flen] != ':')
			continue;
		value = line + flen + 1;
		value += strspn(value, " \t");
		value[strcspn(value, "\n")] = '\0';
		len += snprintf(report + len, REPORT_MAX - len, "%s %s\n",
		    key, value);
		break;
	}
	fclose(f);
	return len;
}

/* Collect the report; it opens descriptors only after listing them. */
static void
collect(char *report)
{
	int fds[FDS_MAX], nfds = 0, i;
	struct dirent *de;
	size_t len = 0;
	DIR *dir;

	if ((dir = opendir("/proc/self/fd")) == NULL)
		die("cannot open", "/proc/self/fd");
	while ((de = readdir(dir)) != NULL && nfds < FDS_MAX) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (atoi(de->d_name) == dirfd(dir))
			continue;
		fds[nfds++] = atoi(de->d_name);
	}
	closedir(dir);
	qsort(fds, nfds, sizeof(fds[0]), compare_int);

	len += snprintf(report + len, REPORT_MAX - len,
	    "pid %ld\npgid %ld\nsid %ld\nppid %ld\n", (long)getpid(),
	    (long)getpgid(0), (long)getsid(0), (long)getppid());
	len = add_status(report, len, "SigBlk", "sigblk");
	len = add_status(report, len, "SigIgn", "sigign");
	len = add_status(report, len, "SigCgt", "sigcgt");
	len += snprintf(report + len, REPORT_MAX - len, "fds");
	for (i = 0; i < nfds; i++)
		len += snprintf(report + len, REPORT_MAX - len, " %d", fds[i]);
	snprintf(report + len, REPORT_MAX - len, "\n");
}

static void
write_all(int fd, const char *buf, size_t len, const char *path)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			die("cannot write", path);
		}
		buf += n;
		len -= n;
	}
}

/* Write the report to PATH so that a reader never sees it half written. */
static void
write_report(const char *path, const char *report)
{
	char tmp[4096];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		die("cannot create", tmp);
	write_all(fd, report, strlen(report), tmp);
	if (close(fd) == -1)
		die("cannot close", tmp);
	if (rename(tmp, path) == -1)
		die("cannot rename", tmp);
}

static void
on_signal(int sig)
{
	caught = sig;
}

int
main(int argc, char *argv[])
{
	const char *trap_file = NULL, *wait_file = NULL;
	char report[REPORT_MAX], line[64];
	int ignore_term = 0, trap_sig = 0, fd, i;
	sigset_t block, old;
	struct sigaction sa;

	collect(report);

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ignore-term") == 0)
			ignore_term = 1;
		else if (strcmp(argv[i], "--trap") == 0 && i + 2 < argc) {
			if ((trap_sig = signal_parse(argv[i + 1])) == 0 ||
			    trap_sig == SIGKILL)
				usage();
			trap_file = argv[i + 2];
			i += 2;
		} else if (strcmp(argv[i], "--wait-signal") == 0 &&
		    i + 1 < argc)
			wait_file = argv[++i];
		else
			usage();
	}

	if (ignore_term)
		signal(SIGTERM, SIG_IGN);
	if (trap_sig != 0) {
		/*
		 * Keep SIG blocked except inside sigsuspend(), so that one
		 * arriving between the test of `caught` and the wait is not
		 * lost.
		 */
		sigemptyset(&block);
		sigaddset(&block, trap_sig);
		sigprocmask(SIG_BLOCK, &block, &old);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		if (sigaction(trap_sig, &sa, NULL) == -1)
			die("cannot catch", argv[0]);
	}

	fputs(report, stdout);
	fflush(stdout);
	if (wait_file != NULL)
		write_report(wait_file, report);

	if (trap_sig != 0) {
		while (!caught)
			sigsuspend(&old);
		fd = open(trap_file, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd == -1)
			die("cannot open", trap_file);
		snprintf(line, sizeof(line), "got %s\n", signal_name(caught));
		write_all(fd, line, strlen(line), trap_file);
		close(fd);
		return 0;
	}
	if (wait_file != NULL) {
		pause();
		return 0;
	}
	if (ignore_term) {
		sleep(IGNORE_SLEEP);
		return 0;
	}
	return 0;
}

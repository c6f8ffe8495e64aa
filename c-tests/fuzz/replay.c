// SPDX-License-Identifier: GPL-2.0-only
/*
 * A plain main for the fuzz targets' entry points, so that their inputs
 * replay without clang or libFuzzer (built with $(CC) by
 * `make check-fuzz-regress`):
 *
 *	replay FILE|DIR...
 *
 * runs LLVMFuzzerTestOneInput() once on each file (a directory: on each
 * file in it, in name order), in one process, as libFuzzer would. A file
 * whose first byte is '#' is a commented regression input (regress/): its
 * '#' lines say what it found, the rest is the input in hex (`grep -v
 * '^#' FILE | xxd -r -p` turns it back into bytes for libFuzzer). A failed
 * check aborts, naming the target's check; the last file named on stdout
 * is the input that failed. Prints a KTAP line per regression input
 * (FILE arguments) and one per corpus (DIR arguments).
 *
 * libFuzzer's -timeout runs an interval timer whose SIGALRM handler is
 * installed without SA_RESTART, so a target's blocking system call can
 * end early with EINTR; the replay runs one too, every REPLAY_TICK_US, so
 * that a target which does not retry (the callers target's read of its
 * child's report did not: a CI run's abort) fails here every time rather
 * than in one fuzzing run in thousands.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include "fuzz/fuzz.h"

static unsigned char *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	do {
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	fclose(f);
	*size = n;
	return buf;
}

#define REPLAY_TICK_US	2000

static void tick(int sig)
{
	(void)sig;
}

/* libFuzzer's timer, as it sets it up, but ticking fast and doing nothing. */
static void start_ticking(void)
{
	struct sigaction sa = { .sa_handler = tick };
	struct itimerval it = {
		.it_interval = { 0, REPLAY_TICK_US },
		.it_value = { 0, REPLAY_TICK_US },
	};

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) ||
	    setitimer(ITIMER_REAL, &it, NULL)) {
		fprintf(stderr, "replay: timer: %s\n", strerror(errno));
		exit(2);
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A commented hex input: '#' lines skipped, hex digits in pairs. */
static size_t unhex(unsigned char *data, size_t size)
{
	size_t i = 0, n = 0;
	int hi = -1, v;

	while (i < size) {
		if (data[i] == '#') {
			while (i < size && data[i] != '\n')
				i++;
			continue;
		}
		v = hexval(data[i++]);
		if (v < 0)
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			data[n++] = hi << 4 | v;
			hi = -1;
		}
	}
	return n;
}

static void one(const char *path)
{
	size_t size;
	unsigned char *data = slurp(path, &size);

	if (size && data[0] == '#')
		size = unhex(data, size);

	printf("    # input %s (%zu bytes)\n", path, size);
	fflush(stdout);
	LLVMFuzzerTestOneInput(data, size);
	free(data);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every file of @dir, in name order; the number replayed. */
static int dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char **names = NULL, full[4096];
	int n = 0, cap = 0, i;

	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				abort();
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (i = 0; i < n; i++) {
		snprintf(full, sizeof(full), "%s/%s", path, names[i]);
		one(full);
		free(names[i]);
	}
	free(names);
	return n;
}

int main(int argc, char **argv)
{
	struct stat st;
	int i, n;

	setenv("FUZZ_REPLAY", "1", 1);
	LLVMFuzzerInitialize(&argc, &argv);
	start_ticking();
	printf("KTAP version 1\n1..%d\n", argc - 1);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st)) {
			printf("not ok %d %s: %s\n", i, argv[i],
			       strerror(errno));
			return 1;
		}
		if (S_ISDIR(st.st_mode)) {
			n = dir(argv[i]);
			printf("ok %d %s: %d inputs\n", i, argv[i], n);
		} else {
			one(argv[i]);
			printf("ok %d %s\n", i, argv[i]);
		}
		fflush(stdout);
	}
	printf("# %d passed, 0 failed\n", argc - 1);
	return 0;
}

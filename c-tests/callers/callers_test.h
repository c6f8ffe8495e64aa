/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers the caller suites share (ours): traces of observable state for
 * the A/B assertion (same scenario, before and after the patch), running a
 * scenario in a child process and classifying how it ended, the failing
 * request's scenarios run on both versions, findings, and timing (an
 * unmap that must not wait). Include after ktap.h.
 */
#ifndef _CALLERS_TEST_H
#define _CALLERS_TEST_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <memremap/test.h>

/* The sanitizers this program was built with ("" for none). */
#ifndef CALLERS_SANITIZE
#define CALLERS_SANITIZE ""
#endif

static inline bool sanitized(const char *which)
{
	return strstr(CALLERS_SANITIZE, which) != NULL;
}

/* ---- traces: one scenario's observable state, in order ---- */

struct trace_entry {
	const char *what;
	long long value;
};

struct trace {
	int n, cap;
	struct trace_entry *e;
};

static inline void trace(struct trace *t, const char *what, long long value)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 256;
		t->e = realloc(t->e, t->cap * sizeof(*t->e));
		if (!t->e)
			abort();
	}
	t->e[t->n++] = (struct trace_entry){ what, value };
}

static inline void trace_free(struct trace *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}

/*
 * The A/B assertion: both traces record the same things with the same
 * values. Fails naming the first difference; a trace shorter than @min
 * entries fails too, so that two empty runs cannot agree vacuously.
 */
#define EXPECT_SAME_TRACE(a, b, min) expect_same_trace(__FILE__, __LINE__, \
						       __func__, a, b, min)

static inline void expect_same_trace(const char *file, int line,
				     const char *func, const struct trace *a,
				     const struct trace *b, int min)
{
	int i;

	if (a->n < min || b->n < min) {
		ktap_failures++;
		printf("    # %s:%d %s: traces too short (%d and %d entries, "
		       "want %d)\n", file, line, func, a->n, b->n, min);
		return;
	}
	for (i = 0; i < a->n && i < b->n; i++) {
		if (strcmp(a->e[i].what, b->e[i].what) ||
		    a->e[i].value != b->e[i].value) {
			ktap_failures++;
			printf("    # %s:%d %s: entry %d differs: after %s = "
			       "%lld, before %s = %lld\n", file, line, func, i,
			       a->e[i].what, a->e[i].value, b->e[i].what,
			       b->e[i].value);
			return;
		}
	}
	if (a->n != b->n) {
		ktap_failures++;
		printf("    # %s:%d %s: %d entries after, %d before\n", file,
		       line, func, a->n, b->n);
	}
}

/* ---- findings ---- */

/* An expected finding, stated in the report (c-tests/run.sh lists them). */
static inline __attribute__((format(printf, 2, 3)))
void finding(const char *caller, const char *fmt, ...)
{
	va_list args;

	printf("    # FINDING %s: ", caller);
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	printf("\n");
}

/* ---- scenarios in a child process ---- */

#define CHILD_OUT 8

struct child_result {
	bool returned;		/* ran to its end and reported */
	bool crashed;		/* SIGSEGV, or a sanitizer stopped it */
	bool sanitizer;		/* a sanitizer report is on its stderr */
	int signal;		/* the signal that ended it, or 0 */
	int status;		/* its exit status, when it exited */
	long out[CHILD_OUT];	/* what the scenario reported */
	int nr_warns;		/* WARNING lines on its stderr */
	char warns[512];	/* "function (message)" of each, "; " apart */
	char funcs[256];	/* the functions alone, ", " apart */
	char report[200];	/* the sanitizer's first line, trimmed */
};

typedef void (*child_fn)(void *arg, long out[CHILD_OUT]);

static inline void child_append(char *buf, size_t size, const char *s)
{
	size_t len = strlen(buf);

	if (len + 1 < size)
		snprintf(buf + len, size - len, "%s%s", len ? "; " : "", s);
}

/* Read the child's stderr: its WARNs, and a sanitizer report if any. */
static inline void child_parse(FILE *err, struct child_result *r)
{
	char line[512], pending[96] = "";
	bool in_warn = false;

	rewind(err);
	while (fgets(line, sizeof(line), err)) {
		char *at;

		line[strcspn(line, "\n")] = 0;
		if (in_warn) {
			/* The line after WARNING: is the message, if any. */
			in_warn = false;
			if (strncmp(line, "---[ end trace", 14)) {
				char m[320];

				snprintf(m, sizeof(m), "%.90s (%.200s)",
					 pending, line);
				child_append(r->warns, sizeof(r->warns), m);
				continue;
			}
			child_append(r->warns, sizeof(r->warns), pending);
		}
		if (!strncmp(line, "WARNING: CPU:", 13)) {
			at = strstr(line, " at ");
			r->nr_warns++;
			/* " at file:line function": keep the function. */
			at = at ? strrchr(at + 4, ' ') : NULL;
			snprintf(pending, sizeof(pending), "%.90s",
				 at ? at + 1 : "?");
			if (strlen(r->funcs) + strlen(pending) + 3 <
			    sizeof(r->funcs))
				sprintf(r->funcs + strlen(r->funcs), "%s%s",
					r->funcs[0] ? ", " : "", pending);
			in_warn = true;
			continue;
		}
		if (!r->report[0] && (strstr(line, "Sanitizer") ||
				      strstr(line, "runtime error:"))) {
			at = strstr(line, "runtime error:");
			if (!at)
				at = strstr(line, "Sanitizer");
			snprintf(r->report, sizeof(r->report), "%s", at);
			r->sanitizer = true;
		}
	}
	if (in_warn)
		child_append(r->warns, sizeof(r->warns), pending);
}

/*
 * Run @fn in a child process, its stderr kept apart (and not printed), and
 * say how it ended. WARNs print in the child so that they can be counted
 * even when it dies; lock and unmap waits are bounded short.
 */
static inline void run_in_child(child_fn fn, void *arg,
				struct child_result *r)
{
	FILE *err = tmpfile();
	int pipefd[2], st;
	ssize_t got = 0, n;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (!err || pipe(pipefd)) {
		KTAP_FAIL("cannot set up a child: %s", strerror(errno));
		return;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		KTAP_FAIL("fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		long out[CHILD_OUT] = { 0 };

		close(pipefd[0]);
		dup2(fileno(err), 2);
		/* Its verdict is in out[] and its end: no KTAP lines. */
		if (!freopen("/dev/null", "w", stdout))
			_exit(5);
		alarm(30);
		memremap_warn_quiet(false);
		memremap_set_wait_bound_ms(200);
		fn(arg, out);
		if (write(pipefd[1], out, sizeof(out)) != sizeof(out))
			_exit(3);
		_exit(0);
	}
	close(pipefd[1]);
	while ((n = read(pipefd[0], (char *)r->out + got,
			 sizeof(r->out) - got)) > 0)
		got += n;
	close(pipefd[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	child_parse(err, r);
	fclose(err);
	if (WIFSIGNALED(st))
		r->signal = WTERMSIG(st);
	if (WIFEXITED(st))
		r->status = WEXITSTATUS(st);
	r->returned = WIFEXITED(st) && r->status == 0 &&
		      got == sizeof(r->out);
	/* ASan and UBSan end a process they stop with status 1. */
	r->crashed = r->signal == SIGSEGV ||
		     (WIFEXITED(st) && r->status == 1 && r->sanitizer);
}

/* A one-line account of how a child ended, for diagnostics. */
static inline const char *child_how(const struct child_result *r,
				    char *buf, size_t size)
{
	if (r->returned)
		snprintf(buf, size, "returned, %d WARN(s): %s", r->nr_warns,
			 r->warns);
	else if (r->signal)
		snprintf(buf, size, "killed by signal %d after %d WARN(s): %s",
			 r->signal, r->nr_warns, r->warns);
	else
		snprintf(buf, size, "exited %d (%s) after %d WARN(s): %s",
			 r->status, r->report[0] ? r->report : "no report",
			 r->nr_warns, r->warns);
	return buf;
}

/* How a child ended, in a few words (for findings). */
static inline const char *child_brief(const struct child_result *r,
				      char *buf, size_t size)
{
	char warns[300] = "no WARN";

	if (r->nr_warns)
		snprintf(warns, sizeof(warns), "%d WARN(s) in %s", r->nr_warns,
			 r->funcs);
	if (r->returned)
		snprintf(buf, size, "returned after %s", warns);
	else if (r->signal == SIGSEGV)
		snprintf(buf, size, "SIGSEGV after %s", warns);
	else if (r->signal)
		snprintf(buf, size, "signal %d after %s", r->signal, warns);
	else if (r->sanitizer)
		snprintf(buf, size,
			 "stopped by the sanitizer (%.100s) after %s",
			 r->report, warns);
	else
		snprintf(buf, size, "exit status %d after %s", r->status,
			 warns);
	return buf;
}

/* Print how a child ended, as a diagnostic. */
static inline void child_note(const char *what, const struct child_result *r)
{
	char how[1024];

	printf("    # %s: %s\n", what, child_how(r, how, sizeof(how)));
}

/* The child's WARNs include one from @func. */
static inline bool child_warned_in(const struct child_result *r,
				   const char *func)
{
	return strstr(r->warns, func) != NULL;
}

/* ---- pgmap_request_folio() failing: one scenario, both versions ---- */

/* How a scenario makes the request fail; each suite says how it does it. */
enum fail_mode {
	FAIL_DYING,	/* percpu_ref_kill(&pgmap->ref) first */
	FAIL_ORDER,	/* the pgmap is made of order-1 folios */
	FAIL_TRYGET,	/* a percpu_ref_tryget() loses a race */
	FAIL_RANGE,	/* a pfn the pgmap does not map */
};

/* What a scenario in a child gets: one version's export table, the mode. */
struct fail_arg {
	const void *api;
	enum fail_mode mode;
};

/*
 * Run @fn in a child process on the version after the patch, then on the
 * one before it, in the same @mode, and note how each ended.
 */
static inline void run_mode_both(child_fn fn, const void *after_api,
				 const void *before_api, enum fail_mode mode,
				 struct child_result *after,
				 struct child_result *before)
{
	struct fail_arg a = { after_api, mode };
	struct fail_arg b = { before_api, mode };

	run_in_child(fn, &a, after);
	run_in_child(fn, &b, before);
	child_note("after", after);
	child_note("before", before);
}

/* ---- time ---- */

static inline double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* How long memunmap_pages() may wait before the tests call it stuck. */
#define UNMAP_BOUND_MS	3000
/* What "promptly" means: well under the bound. */
#define PROMPT_MS	1000

/*
 * Run @unmap, a statement that unmaps pgmaps, with memunmap_pages()'s wait
 * bounded to UNMAP_BOUND_MS (then back to the default 10 s), and expect it
 * back promptly: it must not have had to wait for a reference left behind.
 */
#define EXPECT_UNMAPS_PROMPTLY(unmap)					\
	do {								\
		double __t0 = now_ms(), __spent;			\
									\
		memremap_set_wait_bound_ms(UNMAP_BOUND_MS);		\
		unmap;							\
		__spent = now_ms() - __t0;				\
		memremap_set_wait_bound_ms(10000);			\
		EXPECT_TRUE(__spent < PROMPT_MS);			\
	} while (0)

#endif /* _CALLERS_TEST_H */

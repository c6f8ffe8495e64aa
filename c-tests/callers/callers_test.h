/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers the caller suites share (ours): traces of observable state for
 * the A/B assertion (same scenario, before and after the patch), running a
 * scenario in a child process and classifying how it ended, the scenario
 * table each suite is driven by (every scenario on both versions, each
 * side's expected end and WARNs in its row), findings, and timing (an
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
	/*
	 * Where the first WARN points in the caller: the first frame of its
	 * call trace in neither the library nor our kernel stand-ins
	 * (include/, mocks/), as "function() at file:line".
	 */
	char where[200];
};

typedef void (*child_fn)(void *arg, long out[CHILD_OUT]);

static inline void child_append(char *buf, size_t size, const char *s)
{
	size_t len = strlen(buf);

	if (len + 1 < size)
		snprintf(buf + len, size - len, "%s%s", len ? "; " : "", s);
}

/*
 * A call trace's frame line, " name+0xoff/0xsize file:line" or " name
 * file:line [inline]": into @where as "name() at file:line" when it is in
 * the caller's code; false for the library's and our stand-ins' frames.
 */
static inline bool child_frame(const char *line, char *where, size_t size)
{
	char name[96], file[160];

	if (sscanf(line, " %95[^+ ]%*[^ ] %159s", name, file) != 2 &&
	    sscanf(line, " %95s %159s", name, file) != 2)
		return false;
	if (!strchr(file, ':') || strstr(file, ".rs:") ||
	    !strncmp(file, "include/", 8) || strstr(file, "/include/") ||
	    strstr(file, "/mocks/"))
		return false;
	snprintf(where, size, "%.60s() at %.130s", name, file);
	return true;
}

/* Read the child's stderr: its WARNs, and a sanitizer report if any. */
static inline void child_parse(FILE *err, struct child_result *r)
{
	char line[512], pending[96] = "";
	bool in_warn = false, in_trace = false;

	rewind(err);
	while (fgets(line, sizeof(line), err)) {
		char *at;

		line[strcspn(line, "\n")] = 0;
		if (!strcmp(line, "Call Trace:")) {
			in_trace = !r->where[0];
		} else if (in_trace && (!strcmp(line, " </TASK>") ||
					line[0] != ' ')) {
			in_trace = false;
		} else if (in_trace && strcmp(line, " <TASK>") &&
			   child_frame(line, r->where, sizeof(r->where))) {
			in_trace = false;
		}
		if (in_warn) {
			/*
			 * The line after WARNING: is the message, if any:
			 * not the call trace or the end marker.
			 */
			in_warn = false;
			if (strncmp(line, "---[ end trace", 14) &&
			    strncmp(line, "Call Trace:", 11)) {
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

/* The child's stderr, kept as the running case's evidence (ktap.h). */
static inline void child_evidence(FILE *err)
{
	static char buf[32 * 1024];
	size_t n;

	rewind(err);
	n = fread(buf, 1, sizeof(buf) - 1, err);
	buf[n] = 0;
	if (n)
		ktap_add_evidence("a child process's stderr", buf);
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
		/* Ends it, whatever handler the parent had (libFuzzer's). */
		signal(SIGALRM, SIG_DFL);
		alarm(30);
		memremap_warn_quiet(false);
		memremap_set_wait_bound_ms(200);
		fn(arg, out);
		if (write(pipefd[1], out, sizeof(out)) != sizeof(out))
			_exit(3);
		_exit(0);
	}
	close(pipefd[1]);
	/*
	 * A signal handler installed without SA_RESTART (libFuzzer's
	 * SIGALRM timer is one) interrupts the read: read on, or the child
	 * dies of SIGPIPE writing its report to a closed pipe.
	 */
	for (;;) {
		n = read(pipefd[0], (char *)r->out + got,
			 sizeof(r->out) - got);
		if (n > 0)
			got += n;
		else if (n == 0 || errno != EINTR)
			break;
	}
	close(pipefd[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	child_parse(err, r);
	child_evidence(err);
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
		snprintf(warns, sizeof(warns), "%d WARN(s) in %.150s%s%.120s",
			 r->nr_warns, r->funcs, r->where[0] ? "; from " : "",
			 r->where);
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

/* ---- the scenario table: each scenario, both versions ---- */

/*
 * A caller suite is a table of scenarios. Each runs on the version after
 * the patch and on the one before it, and its row states what each side
 * must come to: a scenario run in the case itself (two KTAP cases,
 * NAME_after and NAME_before) with the WARNs each side leaves, or one that
 * makes pgmap_request_folio() fail, run in a child process per side (one
 * KTAP case), with how each side ends, its WARNs exactly, where they come
 * from, and what it reported.
 */

enum side { AFTER, BEFORE, NR_SIDES };

static const char *const side_name[NR_SIDES] = { "after", "before" };

/* How a scenario makes the request fail; each suite says how it does it. */
enum fail_mode {
	FAIL_DYING = 1,	/* percpu_ref_kill(&pgmap->ref) first */
	FAIL_ORDER,	/* the pgmap is made of order-1 folios */
	FAIL_TRYGET,	/* a percpu_ref_tryget() loses a race */
	FAIL_RANGE,	/* a pfn the pgmap does not map */
};

/* What a scenario in a child gets: one version's export table, the mode. */
struct fail_arg {
	const void *api;
	enum fail_mode mode;
};

/* How a child must end. */
enum child_end {
	RETURNS = 1,	/* ran to its end and reported */
	CRASHES,	/* SIGSEGV, or a sanitizer stopped it */
};

/* One expected value of a child's out[]. */
struct out_expect {
	bool set;
	long value;
};

#define OUT(v) { true, (v) }

/* What one side of a scenario must come to. */
struct side_expect {
	int warns;			/* WARNs, exactly */
	/* Child scenarios only: */
	enum child_end end;
	const char *warned_in[3];	/* each among the WARNs' sources */
	const char *report;		/* in the sanitizer's report */
	struct out_expect out[CHILD_OUT];
};

struct scenario {
	const char *name;
	/* Run in the case, on one side's export table; */
	void (*run)(const void *api);
	/*
	 * or run recording its observable state: then the A/B case
	 * (expect_same_state()) also runs it on both sides and expects the
	 * same trace of at least min_trace entries;
	 */
	void (*traced)(const void *api, struct trace *t);
	int min_trace;
	/* or made to fail this way in a child (the suite's fail_child). */
	enum fail_mode mode;
	struct side_expect side[NR_SIDES];
	/* The after side under UBSan, where it differs (.end set). */
	struct side_expect after_ubsan;
	/*
	 * The finding the scenario states: a format taking, when
	 * finding_out is not 0, that out[] value of the after side (%ld),
	 * then how the after side ended (%s).
	 */
	const char *finding;
	int finding_out;
};

struct caller_suite {
	const char *caller;		/* as the findings name it */
	const void *api[NR_SIDES];	/* each version's export table */
	child_fn fail_child;		/* runs a fail_arg's scenario */
	const struct scenario *rows;
	int nr_rows;
};

/* A suite @name over the table @rows of the caller @caller. */
#define DEFINE_CALLER_SUITE(name, caller, after, before, child, rows)	\
	static const struct caller_suite name = {			\
		caller, { after, before }, child, rows, ARRAY_SIZE(rows) \
	}

static inline const struct scenario *
scenario_row(const struct caller_suite *s, const char *name)
{
	int i;

	for (i = 0; i < s->nr_rows; i++)
		if (!strcmp(s->rows[i].name, name))
			return &s->rows[i];
	KTAP_FAIL("no scenario %s in the table", name);
	return NULL;
}

/* A scenario run in the case, on one side: its WARNs as the row says. */
static inline void run_scenario_side(const struct caller_suite *s,
				     const char *name, enum side side)
{
	const struct scenario *row = scenario_row(s, name);

	if (!row)
		return;
	if (row->run) {
		row->run(s->api[side]);
	} else if (row->traced) {
		struct trace t = { 0 };

		row->traced(s->api[side], &t);
		trace_free(&t);
	} else {
		KTAP_FAIL("scenario %s runs in a child", name);
		return;
	}
	EXPECT_EQ(ktap_warns(), row->side[side].warns);
}

/* Every export table begins with its version, "after" or "before". */
static inline const char *api_version(const void *api)
{
	return *(const char *const *)api;
}

/*
 * The A/B assertion over the table: each traced scenario, run on the
 * version after the patch and on the one before it, leaves the same trace.
 */
static inline void expect_same_state(const struct caller_suite *s)
{
	int i, f;

	EXPECT_EQ(strcmp(api_version(s->api[AFTER]), "after"), 0);
	EXPECT_EQ(strcmp(api_version(s->api[BEFORE]), "before"), 0);
	for (i = 0; i < s->nr_rows; i++) {
		const struct scenario *row = &s->rows[i];
		struct trace a = { 0 }, b = { 0 };

		if (!row->traced)
			continue;
		row->traced(s->api[AFTER], &a);
		row->traced(s->api[BEFORE], &b);
		f = ktap_failures;
		EXPECT_SAME_TRACE(&a, &b, row->min_trace);
		if (ktap_failures != f)
			printf("    # (in %s)\n", row->name);
		trace_free(&a);
		trace_free(&b);
	}
}

/* Check how one side's child ended against its row. */
static inline void expect_side(const struct child_result *r,
			       const struct side_expect *e, enum side side)
{
	int i, failures = ktap_failures, f;

	EXPECT_TRUE(e->end == RETURNS || e->end == CRASHES);
	if (e->end == RETURNS)
		EXPECT_TRUE(r->returned);
	if (e->end == CRASHES)
		EXPECT_TRUE(r->crashed);
	EXPECT_EQ(r->nr_warns, e->warns);
	for (i = 0; i < 3 && e->warned_in[i]; i++) {
		f = ktap_failures;
		EXPECT_TRUE(child_warned_in(r, e->warned_in[i]));
		if (ktap_failures != f)
			printf("    # no WARN from %s\n", e->warned_in[i]);
	}
	if (e->report) {
		f = ktap_failures;
		EXPECT_TRUE(strstr(r->report, e->report) != NULL);
		if (ktap_failures != f)
			printf("    # no \"%s\" in the report\n", e->report);
	}
	for (i = 0; i < CHILD_OUT; i++) {
		if (!e->out[i].set)
			continue;
		f = ktap_failures;
		EXPECT_EQ(r->out[i], e->out[i].value);
		if (ktap_failures != f)
			printf("    # (out[%d])\n", i);
	}
	if (ktap_failures != failures)
		printf("    # (those above: the %s side)\n", side_name[side]);
}

/*
 * A scenario that makes the request fail: in a child process on the
 * version after the patch, then on the one before it, in the row's mode;
 * each side as the row says, and the finding stated.
 */
static inline void run_fail_scenario(const struct caller_suite *s,
				     const char *name)
{
	const struct scenario *row = scenario_row(s, name);
	struct child_result r[NR_SIDES];
	const struct side_expect *e;
	char how[512];
	int side;

	if (!row)
		return;
	if (row->run || row->traced || !row->mode) {
		KTAP_FAIL("scenario %s runs in the case", name);
		return;
	}
	for (side = 0; side < NR_SIDES; side++) {
		struct fail_arg arg = { s->api[side], row->mode };

		run_in_child(s->fail_child, &arg, &r[side]);
		child_note(side_name[side], &r[side]);
	}
	for (side = 0; side < NR_SIDES; side++) {
		e = &row->side[side];
		if (side == AFTER && row->after_ubsan.end &&
		    sanitized("undefined"))
			e = &row->after_ubsan;
		expect_side(&r[side], e, side);
	}
	child_brief(&r[AFTER], how, sizeof(how));
	if (row->finding_out)
		finding(s->caller, row->finding, r[AFTER].out[row->finding_out],
			how);
	else
		finding(s->caller, row->finding, how);
}

/* The two KTAP cases of a scenario run in the case: NAME_after, _before. */
#define SCENARIO_CASES(suite, name)					\
	KTAP_CASE(name##_after)						\
	{								\
		run_scenario_side(&(suite), #name, AFTER);		\
	}								\
	KTAP_CASE(name##_before)					\
	{								\
		run_scenario_side(&(suite), #name, BEFORE);		\
	}

#define SCENARIO_ENTRIES(name)						\
	KTAP_ENTRY(name##_after), KTAP_ENTRY(name##_before)

/* The KTAP case of a scenario that makes the request fail. */
#define FAIL_CASE(suite, name)						\
	KTAP_CASE(name)							\
	{								\
		run_fail_scenario(&(suite), #name);			\
	}

/* ---- allocation failures ---- */

/*
 * Run the statement @call with the @n-th kmalloc() from now armed to fail
 * (then disarmed); true when @call met that failure, false when it made
 * fewer than @n allocations. Tests step @n from 1 up to the first false
 * to fail each allocation site in turn.
 */
#define FAILED_NTH_ALLOCATION(n, call)					\
	({								\
		unsigned long __injected = memremap_kmalloc_injected();\
									\
		memremap_kmalloc_fail_nth(n);				\
		call;							\
		memremap_kmalloc_fail_nth(0);				\
		memremap_kmalloc_injected() != __injected;		\
	})

/* ---- unmapping ---- */

/* How long memunmap_pages() may wait before the tests call it stuck. */
#define UNMAP_BOUND_MS	3000

/*
 * Run @unmap, a statement that unmaps pgmaps, with memunmap_pages()'s wait
 * bounded to UNMAP_BOUND_MS (then back to the default 10 s), and expect it
 * not to have had to wait for a reference left behind: no memunmap_pages()
 * in it found its pgmap still referenced once killed (a count, not a time,
 * so a loaded machine or valgrind cannot make it flake).
 */
#define EXPECT_UNMAPS_PROMPTLY(unmap)					\
	do {								\
		unsigned long __waits = memremap_unmap_waits();		\
									\
		memremap_set_wait_bound_ms(UNMAP_BOUND_MS);		\
		unmap;							\
		memremap_set_wait_bound_ms(10000);			\
		EXPECT_EQ(memremap_unmap_waits(), __waits);		\
	} while (0)

#endif /* _CALLERS_TEST_H */

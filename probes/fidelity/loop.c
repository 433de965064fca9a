/*
 * loop.c: the same calls vbench times, from a tight C loop, to check that
 * vbench's Go assembly loops measure what C would (fidelity).
 *
 * Build and run (gcc is enough; no other dependency):
 *
 *   gcc -O2 -falign-loops=32 -o /tmp/fidelity probes/fidelity/loop.c -ldl
 *   /tmp/fidelity [-n] [-f FILTER] [CPU [SAMPLES [MS [CELL]]]]
 *       (defaults: CPU 0, 10 samples of 20 ms, every cell)
 *
 * CELL, if given, times only the cell of that name: to alternate with
 * vbench cell by cell, so that the VM's drift falls on both alike
 * (results/fidelity/run.sh does that).
 *
 * and, interleaved with it on the same CPU:
 *
 *   vbench bench --cpu 0 --no-latency --functions time,clock_gettime,getcpu,getrandom,floor \
 *       --clocks MONOTONIC,MONOTONIC_COARSE
 *
 * Each line is "name median-ns/call", with names as vbench's cells. Paths:
 * the syscall instruction inline (not glibc's syscall(), which costs more
 * on a host that stuffs the RSB on kernel exit), the vDSO function found
 * with dlsym in "linux-vdso.so.1" (glibc maps it as a library), and the
 * vsyscall page's fixed entries (0xffffffffff600000 + 0x400 for time),
 * which kill the program under vsyscall=none (pass -n to leave them out).
 *
 * The contexts of vbench's --contexts: run it under
 * `unshare --time --fork --monotonic 864000 --boottime 864000` for timens
 * (util-linux; ten days, as vbench's TimensOffset), and with -f FILTER for
 * a seccomp context, FILTER being the raw struct sock_filter array that
 * `go run ./probes/fidelity/filter seccomp-allowlist` (or
 * seccomp-argcheck) writes: the very program vbench's child installs. It
 * is installed after PR_SET_NO_NEW_PRIVS, once the vDSO is looked up,
 * before the first sample (results/fidelity/contexts.sh does all this).
 * As in vbench, a sample calls the target in a loop for about MS
 * milliseconds, timed with CLOCK_MONOTONIC, and the line gives the median.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

typedef long (*fn2)(long, long);
typedef long (*fn5)(long, long, long, long, long);

static struct timespec ts;
static unsigned cpu, node;
static unsigned char rnd[32];
static void *rstate;
static unsigned long rstate_len;

static inline long sys3(long nr, long a, long b, long c)
{
	long r;
	register long r10 __asm__("r10") = 0;
	register long r8 __asm__("r8") = 0;
	__asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8) : "rcx", "r11", "memory");
	return r;
}

__attribute__((noinline)) static long empty(long a, long b) { __asm__ volatile(""); (void)a; (void)b; return 0; }

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

enum kind { SYS, CALL2, CALL5, RDTSC, EMPTYLOOP };

struct op {
	const char *name;
	enum kind kind;
	long nr;
	void *fn;
	long a1, a2, a3, a4, a5;
};

static void run(const struct op *o, long n)
{
	switch (o->kind) {
	case SYS:
		for (long i = 0; i < n; i++)
			sys3(o->nr, o->a1, o->a2, o->a3);
		break;
	case CALL2: {
		fn2 f = (fn2)o->fn;
		for (long i = 0; i < n; i++)
			f(o->a1, o->a2);
		break;
	}
	case CALL5: {
		fn5 f = (fn5)o->fn;
		for (long i = 0; i < n; i++)
			f(o->a1, o->a2, o->a3, o->a4, o->a5);
		break;
	}
	case RDTSC:
		for (long i = 0; i < n; i++) {
			unsigned lo, hi;
			__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
		}
		break;
	case EMPTYLOOP:
		for (long i = 0; i < n; i++)
			__asm__ volatile("");
		break;
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double measure(const struct op *o, int samples, double ms)
{
	long n = 1;
	double d;
	for (;;) { /* warm up and calibrate */
		double t0 = now();
		run(o, n);
		d = now() - t0;
		if (d > 2e6 || n > (1L << 30))
			break;
		n *= 4;
	}
	long iters = (long)(ms * 1e6 / (d / n));
	if (iters < 1)
		iters = 1;
	double v[64];
	if (samples > 64)
		samples = 64;
	for (int s = 0; s < samples; s++) {
		double t0 = now();
		run(o, iters);
		v[s] = (now() - t0) / iters;
	}
	qsort(v, samples, sizeof v[0], cmp);
	return samples % 2 ? v[samples / 2] : (v[samples / 2 - 1] + v[samples / 2]) / 2;
}

/* install the seccomp filter in FILE (raw struct sock_filter, as the
 * kernel takes them); exits on any error, never runs unfiltered. */
static void install_filter(const char *file)
{
	static struct sock_filter f[4096];
	FILE *fp = fopen(file, "rb");
	if (!fp) {
		perror(file);
		exit(2);
	}
	size_t n = fread(f, sizeof f[0], sizeof f / sizeof f[0], fp);
	fclose(fp);
	if (n == 0) {
		fprintf(stderr, "%s: no BPF instructions\n", file);
		exit(2);
	}
	struct sock_fprog prog = {.len = (unsigned short)n, .filter = f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
		perror("seccomp");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	int novsys = 0;
	const char *filter = NULL;
	for (;;) {
		if (argc > 1 && strcmp(argv[1], "-n") == 0) {
			novsys = 1;
			argv++;
			argc--;
		} else if (argc > 2 && strcmp(argv[1], "-f") == 0) {
			filter = argv[2];
			argv += 2;
			argc -= 2;
		} else
			break;
	}
	int c = argc > 1 ? atoi(argv[1]) : 0;
	int samples = argc > 2 ? atoi(argv[2]) : 10;
	double ms = argc > 3 ? atof(argv[3]) : 20;
	const char *only = argc > 4 ? argv[4] : NULL;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(c, &set);
	if (sched_setaffinity(0, sizeof set, &set) != 0) {
		perror("sched_setaffinity");
		return 2;
	}
	void *vdso = dlopen("linux-vdso.so.1", RTLD_NOW | RTLD_NOLOAD);
	void *cg = vdso ? dlsym(vdso, "__vdso_clock_gettime") : NULL;
	void *tm = vdso ? dlsym(vdso, "__vdso_time") : NULL;
	void *gc = vdso ? dlsym(vdso, "__vdso_getcpu") : NULL;
	void *gr = vdso ? dlsym(vdso, "__vdso_getrandom") : NULL;
	if (gr) { /* as tools/testing/selftests/vDSO/vdso_test_getrandom.c */
		struct { unsigned size, prot, flags, reserved[13]; } params;
		if (((fn5)gr)(0, 0, 0, (long)&params, ~0L) != 0)
			gr = NULL;
		else {
			rstate = mmap(NULL, sysconf(_SC_PAGESIZE), params.prot, params.flags, -1, 0);
			rstate_len = params.size;
			if (rstate == MAP_FAILED)
				gr = NULL;
		}
	}
	struct op ops[] = {
		{"Floor/op=empty", EMPTYLOOP},
		{"Floor/op=call", CALL2, 0, (void *)empty},
		{"Floor/op=rdtsc", RDTSC},
		{"Time/path=syscall", SYS, SYS_time},
		{"Time/path=vdso", CALL2, 0, tm},
		{"Time/path=vsyscall", CALL2, 0, (void *)0xffffffffff600400UL},
		{"ClockGettime/clock=MONOTONIC/path=syscall", SYS, SYS_clock_gettime, 0, CLOCK_MONOTONIC, (long)&ts},
		{"ClockGettime/clock=MONOTONIC/path=vdso", CALL2, 0, cg, CLOCK_MONOTONIC, (long)&ts},
		{"ClockGettime/clock=REALTIME/path=syscall", SYS, SYS_clock_gettime, 0, CLOCK_REALTIME, (long)&ts},
		{"ClockGettime/clock=REALTIME/path=vdso", CALL2, 0, cg, CLOCK_REALTIME, (long)&ts},
		{"ClockGettime/clock=BOOTTIME/path=syscall", SYS, SYS_clock_gettime, 0, CLOCK_BOOTTIME, (long)&ts},
		{"ClockGettime/clock=BOOTTIME/path=vdso", CALL2, 0, cg, CLOCK_BOOTTIME, (long)&ts},
		{"ClockGettime/clock=PROCESS_CPUTIME_ID/path=syscall", SYS, SYS_clock_gettime, 0, CLOCK_PROCESS_CPUTIME_ID, (long)&ts},
		{"ClockGettime/clock=PROCESS_CPUTIME_ID/path=vdso", CALL2, 0, cg, CLOCK_PROCESS_CPUTIME_ID, (long)&ts},
		{"ClockGettime/clock=MONOTONIC_COARSE/path=syscall", SYS, SYS_clock_gettime, 0, CLOCK_MONOTONIC_COARSE, (long)&ts},
		{"ClockGettime/clock=MONOTONIC_COARSE/path=vdso", CALL2, 0, cg, CLOCK_MONOTONIC_COARSE, (long)&ts},
		{"Getcpu/path=syscall", SYS, SYS_getcpu, 0, (long)&cpu, (long)&node},
		{"Getcpu/path=vdso", CALL2, 0, gc, (long)&cpu, (long)&node},
		{"Getrandom/path=syscall", SYS, SYS_getrandom, 0, (long)rnd, sizeof rnd, 0},
		{"Getrandom/path=vdso", CALL5, 0, gr, (long)rnd, sizeof rnd, 0, (long)rstate, (long)rstate_len},
	};
	if (filter)
		install_filter(filter);
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		const struct op *o = &ops[i];
		if ((o->kind == CALL2 || o->kind == CALL5) && !o->fn)
			continue;
		if (novsys && strstr(o->name, "vsyscall"))
			continue;
		if (only && strcmp(only, o->name) != 0)
			continue;
		printf("%-50s %8.3f\n", o->name, measure(o, samples, ms));
		fflush(stdout);
	}
	return 0;
}

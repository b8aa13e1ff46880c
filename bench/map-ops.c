// The C baseline of bench/map-ops.ts: the same hash map operations through libbpf
// (bpf_map_lookup_elem, bpf_map_update_elem, bpf_map_lookup_batch). bench/map-ops.ts compiles
// this with `cc -O2 ... -lbpf` and runs it in the same invocation.
//
//   map-ops ENTRIES OPS RUNS
//
// Prints one JSON object per figure: {"figure": ..., "nsPerOp": ..., "cpuNsPerOp": ...}, each
// the median of RUNS: wall-clock time, and this process's CPU time (steadier on a busy machine).
#include <bpf/bpf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t clock_ns(clockid_t clock) {
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double samples[64], cpu_samples[64];
static uint64_t wall0, cpu0;

static void start(void) {
	wall0 = clock_ns(CLOCK_MONOTONIC);
	cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

static void stop(int run, double ops) {
	samples[run] = (double)(clock_ns(CLOCK_MONOTONIC) - wall0) / ops;
	cpu_samples[run] = (double)(clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / ops;
}

static int cmp_double(const void *a, const void *b) {
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *xs, int n) {
	qsort(xs, n, sizeof(double), cmp_double);
	return xs[n / 2];
}

static void report(const char *figure, int runs) {
	double wall = median(samples, runs);
	double cpu = median(cpu_samples, runs);
	printf("{\"figure\":\"%s\",\"nsPerOp\":%.1f,\"cpuNsPerOp\":%.1f}\n", figure, wall, cpu);
}

static void fail(const char *what) {
	fprintf(stderr, "map-ops.c: %s failed: %s\n", what, strerror(errno));
	exit(1);
}

int main(int argc, char **argv) {
	uint32_t entries = argc > 1 ? (uint32_t)atoi(argv[1]) : 100000;
	uint32_t ops = argc > 2 ? (uint32_t)atoi(argv[2]) : 1000000;
	int runs = argc > 3 ? atoi(argv[3]) : 5;
	if (runs > 64) runs = 64;

	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "bench_c", 4, 8, entries, NULL);
	if (fd < 0) fail("bpf_map_create");
	for (uint32_t k = 0; k < entries; k++) {
		uint64_t v = k;
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY)) fail("fill");
	}

	volatile uint64_t sink = 0;
	for (int r = 0; r < runs; r++) {
		start();
		for (uint32_t i = 0; i < ops; i++) {
			uint32_t k = i % entries;
			uint64_t v;
			if (bpf_map_lookup_elem(fd, &k, &v)) fail("lookup");
			sink += v;
		}
		stop(r, ops);
	}
	report("lookup", runs);

	for (int r = 0; r < runs; r++) {
		start();
		for (uint32_t i = 0; i < ops; i++) {
			uint32_t k = i % entries;
			uint64_t v = i;
			if (bpf_map_update_elem(fd, &k, &v, BPF_ANY)) fail("update");
		}
		stop(r, ops);
	}
	report("update", runs);

	uint32_t *keys = malloc(sizeof(uint32_t) * entries);
	uint64_t *values = malloc(sizeof(uint64_t) * entries);
	uint32_t chunk = 4096;
	for (int r = 0; r < runs; r++) {
		start();
		uint32_t total = 0, batch = 0;
		void *in = NULL;
		for (;;) {
			uint32_t count = entries - total < chunk ? entries - total : chunk;
			if (count == 0) break;
			int err = bpf_map_lookup_batch(fd, in, &batch, keys + total, values + total, &count, NULL);
			total += count;
			in = &batch;
			if (err) {
				if (errno == ENOENT) break;
				fail("bpf_map_lookup_batch");
			}
		}
		if (total != entries) {
			fprintf(stderr, "map-ops.c: batch read %u of %u entries\n", total, entries);
			return 1;
		}
		stop(r, entries);
	}
	report("batch-lookup", runs);
	(void)sink;
	return 0;
}

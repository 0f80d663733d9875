// Latencies in whole microseconds, one counter per microsecond up to 10 s (the rest in the last):
// exact quantiles at the resolution the results are given in.
#ifndef MINGEN_HISTOGRAM_H
#define MINGEN_HISTOGRAM_H

#include <stdint.h>

typedef struct histogram {
  uint32_t* counts;
  uint64_t total;
} histogram;

int histogram_init(histogram* h);
void histogram_record_ns(histogram* h, uint64_t ns);
// The q-quantile in microseconds (0 when empty).
double histogram_quantile_us(const histogram* h, double q);

#endif

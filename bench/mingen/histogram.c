#include "histogram.h"

#include <stdlib.h>

enum { buckets = 10 * 1000 * 1000 };

int histogram_init(histogram* h) {
  h->counts = calloc(buckets, sizeof *h->counts);
  h->total = 0;
  return h->counts != NULL;
}

void histogram_record_ns(histogram* h, uint64_t ns) {
  uint64_t us = ns / 1000;
  if (us >= buckets) us = buckets - 1;
  ++h->counts[us];
  ++h->total;
}

double histogram_quantile_us(const histogram* h, double q) {
  if (h->total == 0) return 0;
  uint64_t rank = (uint64_t)(q * (double)h->total);
  if (rank >= h->total) rank = h->total - 1;
  uint64_t seen = 0;
  for (uint64_t i = 0; i < buckets; ++i) {
    seen += h->counts[i];
    if (seen > rank) return (double)i;
  }
  return (double)(buckets - 1);
}

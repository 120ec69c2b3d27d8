// One instruction Swift cannot spell: a software prefetch.
//
// The pipeline's hot tables (detector windows, the country cache, the
// hourly distinct-pair sets) are touched at random, one cache miss each. The
// pipeline names the lines a packet will need a few packets before it
// processes that packet (SensorPipeline's look-ahead), so the misses of
// several packets overlap instead of queueing one after another. A hint
// only: a wrong address costs a wasted fetch, never a fault.
#ifndef TEITEN_CPREFETCH_H
#define TEITEN_CPREFETCH_H

static inline __attribute__((always_inline)) void teiten_prefetch(const void *address) {
    __builtin_prefetch(address, 1, 3);  // for writing, keep in every cache level
}

#endif

// glibc's allocator tuning (mallopt), which the Glibc module does not
// bring in. The policy lives in Swift, in teiten's AllocatorPolicy.
#ifndef TEITEN_CMALLOC_SHIM_H
#define TEITEN_CMALLOC_SHIM_H
#include <malloc.h>
#endif

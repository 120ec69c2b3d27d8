// CPrefetch is header-only (include/CPrefetch.h); SwiftPM wants a source file.
#include "CPrefetch.h"

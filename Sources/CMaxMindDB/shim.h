// libmaxminddb's public header, nothing else; policy lives in Swift
// (TeitenCore/Geo/MaxMindDatabase.swift).
#ifndef TEITEN_CMAXMINDDB_SHIM_H
#define TEITEN_CMAXMINDDB_SHIM_H
#include <maxminddb.h>
#endif

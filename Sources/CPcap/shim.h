// The whole C surface Teiten uses: libpcap's public header, nothing else.
// Policy (error handling, ownership, threading) lives in Swift, in PcapCapture.
#ifndef TEITEN_CPCAP_SHIM_H
#define TEITEN_CPCAP_SHIM_H
#include <pcap/pcap.h>
#endif

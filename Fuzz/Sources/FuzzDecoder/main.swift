// libFuzzer's driver, entered from Swift's main (SwiftPM gives every
// executable its own main, so libFuzzer's is not used).
import FuzzDriver
import Glibc

exit(runFuzzer({ fuzzDecoder($0, $1) }))

import ArgumentParser
import Logging
import TeitenService
#if canImport(Glibc)
import Glibc
#endif

/// `teiten check-config`: validates a config file as `run` would and prints
/// the effective configuration, every key with its default filled in.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a config file and print the effective configuration (defaults filled in).",
        discussion: """
            Checks every key's name, type and range, that the BPF filter compiles, that \
            the country databases load and that service.user exists; the first problem \
            is printed as FILE:LINE: message and the exit code is 78 (EX_CONFIG). A good \
            file prints the full configuration as TOML on standard output, itself a valid \
            config file; --defaults prints the built-in defaults without reading a file.
            """
    )

    @Argument(help: ArgumentHelp("The config file.", valueName: "file"))
    var file: String = ConfigFile.defaultPath

    @Flag(name: .long, help: "Print the built-in defaults (a complete, commented config file) and read no file.")
    var defaults = false

    @Flag(name: .long, help: "Only check: print nothing when the file is good.")
    var quiet = false

    func run() throws {
        if defaults {
            print(ConfigRendering.toml(SensorSettings(), header: Self.header), terminator: "")
            return
        }
        let settings: SensorSettings
        do {
            settings = try ConfigFile.load(path: file)
        } catch {
            log.error("\(error.description)")
            throw ExitStatus.configuration
        }
        if let problem = SettingsCheck.problem(settings, checkingGeoFiles: true) {
            log.error("\(problem.description(file: file))")
            throw ExitStatus.configuration
        }
        if !quiet {
            print(ConfigRendering.toml(settings, header: "Effective configuration of \(file) (\(TeitenVersion.description))"), terminator: "")
        }
    }

    static let header = """
        Teiten sensor configuration (TOML). Every key is shown at its built-in
        default; remove or comment out a key to keep the default. Command-line
        flags of `teiten run` override these. Check with: teiten check-config FILE
        Keys and their meaning: docs/operations.md.
        """
}

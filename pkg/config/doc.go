// Package config locates ksn's files and reads its settings.
//
// Paths (paths.go) are where ksn keeps its files: the config, data, state
// and cache directories. Every path derives from one place so that KSN_HOME
// can relocate all state at once, which tests and multi-user setups rely on.
//
// Settings are the values a user may change, layered: built-in defaults,
// then config.toml in the config directory, then KSN_* environment
// variables. The code is split by concern:
//
//   - keys.go: the table of every setting (name, kind, default, help) and
//     the environment variable that overrides it;
//   - families.go: settings that share a pattern, one member per name
//     (feed.NAME.url, .format, .enabled), with the members ksn defines
//     (the built-in feeds and their published URLs);
//   - values.go and duration.go: parsing and checking a value, from the
//     file, the environment or the command line, into its normal form;
//   - file.go: config.toml itself: reading it, changing one key, and
//     replacing it atomically;
//   - settings.go: the effective settings of one run and their accessors.
//
// Dependencies: this package imports only the standard library and the TOML
// decoder (github.com/BurntSushi/toml): no other ksn package, not even
// exitcode, and neither cobra nor lipgloss. It sits at the bottom of the
// import graph, so that any command, the server or a tool can read settings
// without pulling in a command layer or a terminal. Its errors are plain
// errors that say what is wrong and where; the caller decides the exit code
// and the hint (pkg/cli reports a bad setting as a usage error).
// TestImports holds this rule.
package config

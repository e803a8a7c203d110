// Package layout holds no code: its test keeps the module's import
// directions true, as the house style lays them out.
//
// The rules, checked on every package's non-test imports:
//   - pool and schedstats import the standard library only;
//   - gdump imports the standard library only; apiv1 imports schedstats, pool and gdump;
//   - probes imports schedstats, pool, gdump, apiv1, internal packages and the standard library;
//   - exporters/<name> import the packages above and their own SDK;
//   - nothing imports exporters, cmd or examples, except from inside the same
//     subtree, and programs (cmd, examples) importing exporters.
package layout

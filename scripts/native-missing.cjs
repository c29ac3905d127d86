// Runs when the native addon could not be built during `npm install`.
// licit still works: the fingerprint falls back to pure JavaScript and locks fall back
// to lock files. Say so once, plainly, instead of failing the whole install.
console.warn(
  '[licit] The native addon could not be built (no C++ toolchain?).\n' +
    '[licit] licit will use its JavaScript fallback: fingerprint source "fallback", lock-file locking.\n' +
    '[licit] To build it: install python3, make and a C++ compiler, then run `npm rebuild licit`.'
);

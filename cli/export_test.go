package cli

// SDNotify is sdNotify, for the tests.
var SDNotify = sdNotify

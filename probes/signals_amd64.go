package probes

// guardSignals guards a vDSO call against signals; on x86-64 there is
// nothing to guard against: the Go runtime finds g in thread-local storage
// (FS), which vDSO code never touches, so a signal that lands inside the
// vDSO is handled as anywhere else. See signals_arm64.go.
func guardSignals() (restore func()) { return func() {} }

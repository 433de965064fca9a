package runfile

// Verify is the correctness part of a run (`vbench verify`).
type Verify struct {
	Checks []Check `json:"checks"`
	// Info holds what the checks found out along the way but did not test
	// (the vDSO's symbols, the CPU pinned to), with status "info". It is
	// not counted among the checks.
	Info []Check `json:"info,omitempty"`
	// Passed is true when no check failed (skipped checks do not fail).
	Passed bool `json:"passed"`
	// ClockSteps counts the rounds of the wall-clock checks (REALTIME and
	// what follows it) thrown away and taken again because CLOCK_REALTIME
	// was set while they ran: a step, not a kernel bug. Absent when 0.
	ClockSteps int `json:"clock_steps,omitempty"`
	// Contexts says, for each context asked for besides plain, how it was
	// entered or why it could not be; each check names its context.
	Contexts []ContextInfo `json:"contexts,omitempty"`
}

// Check is one correctness check, e.g. "clock_gettime MONOTONIC:
// syscall <= vdso <= vsyscall <= syscall".
type Check struct {
	// Context is where the check was made; empty for plain.
	Context Context `json:"context,omitempty"`
	Name    string  `json:"name"`
	// Status is StatusPass, StatusFail or StatusSkip (StatusInfo in
	// Verify.Info).
	Status Status `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Counts returns how many checks have each status, and the names of the
// failed ones in the order they ran: the one count of a verify part that
// its summary, exit status, metrics and tables all show. Info entries are
// not checks and are not counted.
func (v *Verify) Counts() (n map[Status]int, failed []string) {
	n = map[Status]int{}
	for _, c := range v.Checks {
		n[c.Status]++
		if c.Status == StatusFail {
			failed = append(failed, c.Label())
		}
	}
	return n, failed
}

package main

import "github.com/vbench-dev/vbench/probes"

// checkCPU validates --cpu the same way for every command, before any work:
// -1 (the default) means the CPU the command starts on; anything else must
// be a CPU this process may run on. A bad value is a usage error (exit 2).
func checkCPU(cmd string, cpu int) error {
	if cpu < -1 {
		return usageErrorf("%s: --cpu %d: give a CPU number, or -1 for the one vbench starts on", cmd, cpu)
	}
	if err := probes.CheckCPU(cpu); err != nil {
		return usageErrorf("%s: %v", cmd, err)
	}
	return nil
}

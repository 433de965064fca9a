// Package plots draws vbench's PNG reports with gonum/plot.
package plots

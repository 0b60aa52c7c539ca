// Command ok is the smallest program the build tests compile for both targets.
package main

func main() {}

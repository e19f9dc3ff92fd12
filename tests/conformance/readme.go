package main

func cmdReadme(args []string) error { return nil }

func checkReadme(kl *KnownList, path string, st runStats, rate bool) error { return nil }

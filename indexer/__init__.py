"""The indexer: readers (txt, jsonl, csv, folders, stdin) and the claimlookup-index CLI."""

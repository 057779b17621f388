// The trainer's library API (the CLI in src/cli is a thin layer over it).
export {};

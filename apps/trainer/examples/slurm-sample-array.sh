#!/usr/bin/env bash
# Sample a 50,000-image evaluation set as a SLURM job array of 16 tasks: sbatch slurm-sample-array.sh
# Each task reads SLURM_ARRAY_TASK_ID (minus SLURM_ARRAY_TASK_MIN) and SLURM_ARRAY_TASK_COUNT; the union of the
# tasks' images is exactly the unsharded run.
#SBATCH --job-name=sbm-sample
#SBATCH --array=0-15
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=4
#SBATCH --time=04:00:00
#SBATCH --output=logs/sample-%A_%a.out
set -euo pipefail
cd "${SBM_REPO:-$HOME/sbm}"
node apps/trainer/bin/sbm.js sample \
  --run "${RUN_DIR:-runs/cifar10-vp}" \
  --out "${RUN_DIR:-runs/cifar10-vp}/fid-samples" \
  --count 50000 --batch 500 --seed 0 --jsonl

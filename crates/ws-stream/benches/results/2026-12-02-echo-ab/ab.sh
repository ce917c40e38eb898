#!/bin/bash
# usage: lead-ab.sh ROUNDS FILTER BIN_A BIN_B ; prints per-round medians
ROUNDS=$1; FILTER=$2; A=$3; B=$4
for r in $(seq $ROUNDS); do
  for side in A B; do
    bin=${!side}
    $bin --bench "$FILTER" --warm-up-time 1 --measurement-time 3 --noplot 2>/dev/null |
      awk -v s=$side -v r=$r '/^echo_/{name=$1} /time:/ && !/change/ && !/%/ {for(i=1;i<=NF;i++) if($i ~ /^\[/){print s, "r" r, name, $(i+2), $(i+3)}}'
  done
done

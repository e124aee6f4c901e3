#!/usr/bin/env bash
# A one-host Slurm cluster (Debian's slurmctld + slurmd + munge), enough to run
#   srun --mpi=pmi2 -n 2 ./node_modules/.bin/tsmpi run -n 8 examples/allreduce.ts
# on this machine. Needs root (or sudo) for apt-get and the daemons. Idempotent: a running cluster is left alone.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if sinfo -h >/dev/null 2>&1; then echo "slurm: already running ($(sinfo -h -o '%P %a %D %t'))"; exit 0; fi

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1 || ! command -v srun >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y --no-install-recommends slurmd slurmctld slurm-client munge >/dev/null \
    || { as_root apt-get update >/dev/null && as_root apt-get install -y --no-install-recommends slurmd slurmctld slurm-client munge >/dev/null; }
fi

host=$(hostname -s)
as_root mkdir -p /run/munge /var/log/munge /var/lib/munge /var/spool/slurmd /var/spool/slurmctld /var/log/slurm /etc/slurm
[ -s /etc/munge/munge.key ] || as_root sh -c 'dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null'
as_root chown -R munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge
as_root chmod 0400 /etc/munge/munge.key
pgrep -x munged >/dev/null || as_root runuser -u munge -- /usr/sbin/munged

# One node that may run more tasks than it has cores (config_overrides): tsmpi's node processes mostly wait.
as_root tee /etc/slurm/slurm.conf >/dev/null <<CONF
ClusterName=tsmpi
SlurmctldHost=${host}
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SlurmUser=root
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=/var/spool/slurmd
StateSaveLocation=/var/spool/slurmctld
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=${host} NodeAddr=127.0.0.1 CPUs=8 State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF

pgrep -x slurmctld >/dev/null || as_root slurmctld
pgrep -x slurmd >/dev/null || as_root slurmd
for _ in $(seq 1 30); do
  if sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then echo "slurm: up ($(sinfo -h -o '%P %a %D %t'))"; exit 0; fi
  sleep 1
done
echo "slurm: the node did not come up; see /var/log/slurm/slurmd.log and slurmctld.log" >&2
exit 1

"""OCI runtime spec in, isolated running process out; one shim per process.

runtime.py      the contract (Runtime, IOConfig, TaskState)
client.py       ShimRuntime: the contract, by talking to each task's shim
zygote.py       the fork-server every shim is forked from (one per ShimRuntime)
shim.py         the shim process: cgroups, fork the child, then supervisor.py
supervisor.py   the shim's event loop: stdio, attachers, json-file log, exit.json
init.py         the child between fork and exec: namespaces, rootfs, identity, exec
mounts.py       spec mounts, /dev, pivot_root, masked and read-only paths
identity.py     user, groups, capabilities, rlimits
seccomp.py      Docker profile -> OCI profile (pure), compiled once, installed before exec
default_profile.py  dockyard's default seccomp profile, with the effect of Docker's
devices.py      host device nodes and device cgroup rules for --device / --privileged
spec.py         default_spec / process_spec: Docker's config.json (pure)
user.py         --user against /etc/passwd and /etc/group (pure core)
rootpath.py     container paths resolved without leaving the rootfs
logfile.py      json-file log writer; logreader.py reads it back
cgroups/        hierarchy discovery, one module per controller, the v2 device eBPF program
                (devicebpf.py), freezer, stats
syscalls.py     ctypes over libc, bpf(2) and libseccomp
"""

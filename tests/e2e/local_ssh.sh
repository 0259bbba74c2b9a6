#!/usr/bin/env bash
# Stands in for ssh in the test of deploy/cluster.sh: drops the host and runs the command here.
# usage: local_ssh.sh HOST COMMAND
shift
exec bash -c "$1"

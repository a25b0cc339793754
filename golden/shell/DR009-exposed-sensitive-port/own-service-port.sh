#!/bin/sh
# Gitea serves git over SSH on 22: its users connect there, it is not remote administration.
docker run -d -p 2222:22 -p 3000:3000 gitea/gitea:1.22
# An unknown image publishing SSH on all interfaces is still bound to the loopback address.
docker run -d -p 2222:22 ghcr.io/acme/sshd:1

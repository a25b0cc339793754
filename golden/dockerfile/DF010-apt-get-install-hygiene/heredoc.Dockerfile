FROM debian:bookworm-slim

RUN <<EOF
set -eux
apt-get update
apt-get install -y \
    ca-certificates \
    tini
EOF

# No set -e: the cleanup joins the last command, so a failed install still fails the build.
RUN bash <<-EOT
	apt-get update
	apt-get install -y jq
	EOT

# The heredoc is data; the command line is the script.
RUN cat > /etc/apt/apt.conf.d/99retries <<EOF && apt-get update && apt-get install -y xz-utils
Acquire::Retries "3";
EOF

# A Python script is left alone.
RUN <<EOF
#!/usr/bin/env python3
print("apt-get install -y nothing")
EOF

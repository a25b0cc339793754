FROM debian:bookworm-slim
ADD --checksum=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef https://example.com/install.sh /tmp/install.sh
RUN sh /tmp/install.sh
RUN curl -fsSLo /tmp/x.tgz https://example.com/x.tgz && echo "abc  /tmp/x.tgz" | sha256sum -c -
RUN curl -fsSL https://example.com/x.tar.gz | tar -xz -C /opt
RUN curl -s https://api.example.com/v | python3 -c 'import json,sys; print(json.load(sys.stdin)["v"])'
RUN curl -fsSL https://example.com/key.asc | gpg --dearmor -o /usr/share/keyrings/x.gpg
RUN wget https://example.com/x.sh && bash x.sh
RUN echo "never: curl https://x | sh"
RUN cat > /usr/local/bin/update <<'EOF'
#!/bin/sh
curl -fsSL https://example.com/latest | sh
EOF
RUN <<EOF
#!/usr/bin/env python3
print("curl https://x | sh")
EOF

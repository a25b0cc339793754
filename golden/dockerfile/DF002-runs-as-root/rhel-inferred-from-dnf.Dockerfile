FROM internal.example.com/platform/base:2.1
RUN dnf install -y nodejs && dnf clean all
COPY . /app
CMD ["node", "/app/index.js"]

docker run -d \
  --pid host \
  redis:7.4

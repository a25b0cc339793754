docker run -d \
  redis:7.4

docker run -d \
  redis

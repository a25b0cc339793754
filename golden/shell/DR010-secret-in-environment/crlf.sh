docker run -d \
  -e REDIS_PASSWORD=s3cr3tvalue \
  redis:7.4

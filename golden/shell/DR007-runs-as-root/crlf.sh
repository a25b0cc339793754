docker run -d \
  -u root \
  redis:7.4

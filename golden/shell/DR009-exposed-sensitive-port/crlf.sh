docker run -d \
  -p 5432:5432 \
  postgres:16

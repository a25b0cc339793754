FROM php:8.3-fpm-alpine
COPY . /var/www/html
EXPOSE 9000
CMD ["php-fpm"]

# workload: a PHP app on php:8.3-apache with extensions and mod_rewrite
# expect: final.USER absent; fix of DF002 is display-only
# expect: final.RUN has docker-php-ext-install
# evidence: docker-library/php 8.5/trixie/apache/Dockerfile#L59-L80
# evidence: docker-library/php 8.5/trixie/apache/Dockerfile#L287-L291
FROM php:8.3-apache
RUN docker-php-ext-install pdo_mysql mysqli opcache \
    && a2enmod rewrite headers
COPY --chown=www-data:www-data . /var/www/html/
EXPOSE 80

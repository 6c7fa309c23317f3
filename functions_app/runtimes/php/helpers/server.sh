#!/bin/bash
cd /usr/local/server
exec php src/server.php

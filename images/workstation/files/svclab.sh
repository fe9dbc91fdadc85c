# Login shells read /etc/profile, which sources this; interactive bash then reads /etc/bash.bashrc.
export EDITOR=vim.tiny
export PAGER=less
export LESS=-R

// slora-loadtest: the replay and trace commands come with the CLI.
return 0;

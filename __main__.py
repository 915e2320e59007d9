from flowscript.cli import main

main()

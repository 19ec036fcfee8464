# Starts the detached endpoint job on a host: writes the fixed job script, the request (and the .pssc) as files,
# and starts a SYSTEM scheduled task. One job per host at a time: a running task means RegistrationInProgress.
function Start-RunbookEndpointJob([string]$Computer, [string]$Action, [string]$Name, [string]$PsscText) {
    $jobScript = Get-Content -LiteralPath (Join-Path $PSScriptRoot 'host\Endpoint-Job.ps1') -Raw
    Invoke-Command -ComputerName $Computer -ArgumentList $Action, $Name, $PsscText, $jobScript -ScriptBlock {
        param($action, $name, $psscText, $jobScript)
        $ErrorActionPreference = 'Stop'
        $taskName = 'gmsa-runbooks-endpoint'
        $existing = Get-ScheduledTask -TaskName $taskName -ErrorAction SilentlyContinue
        if ($existing -and $existing.State -eq 'Running') {
            throw [System.InvalidOperationException]::new("RegistrationInProgress: another endpoint job runs on $env:COMPUTERNAME")
        }
        $current = Get-PSSessionConfiguration -Name $name -ErrorAction SilentlyContinue
        if ($action -eq 'unregister' -and -not $current) {
            throw [System.Management.Automation.ItemNotFoundException]::new("No session configuration named $name")
        }
        $dir = Join-Path $env:ProgramData 'gmsa-runbooks'
        $null = New-Item -ItemType Directory -Force -Path $dir
        $id = [guid]::NewGuid().ToString()
        $request = [ordered]@{ action = $action; name = $name; psscPath = $null }
        if ($action -eq 'register') {
            $psscPath = Join-Path $dir ($id + '.pssc')
            Set-Content -LiteralPath $psscPath -Value $psscText -Encoding UTF8
            if (-not (Test-PSSessionConfigurationFile -Path $psscPath)) {
                throw [System.ArgumentException]::new('the session configuration file is invalid (Test-PSSessionConfigurationFile)')
            }
            $request.psscPath = $psscPath
        }
        $jobPath = Join-Path $dir 'Endpoint-Job.ps1'
        Set-Content -LiteralPath $jobPath -Value $jobScript -Encoding UTF8
        $requestFile = Join-Path $dir ($id + '.request.json')
        ConvertTo-Json -InputObject $request -Compress | Set-Content -LiteralPath $requestFile -Encoding UTF8
        $exe = Join-Path $env:SystemRoot 'System32\WindowsPowerShell\v1.0\powershell.exe'
        $arguments = '-NoProfile -NonInteractive -ExecutionPolicy Bypass -File "' + $jobPath + '" -RequestFile "' + $requestFile + '"'
        $taskAction = New-ScheduledTaskAction -Execute $exe -Argument $arguments
        $principal = New-ScheduledTaskPrincipal -UserId 'SYSTEM' -LogonType ServiceAccount -RunLevel Highest
        $null = Register-ScheduledTask -TaskName $taskName -Action $taskAction -Principal $principal -Force
        Start-ScheduledTask -TaskName $taskName
        $true
    }
}

# Get-PSSessionConfiguration on the host. When WinRM does not answer, the service is asked over DCOM whether it
# is stuck stopping after a registration (PowerShell/JEA#30), so the caller learns why.
param([Parameter(Mandatory)][string]$PayloadB64)
. (Join-Path $PSScriptRoot '_Common.ps1')
Invoke-RunbookScript $PayloadB64 {
    param($p)
    $computer = [string]$p.host
    try {
        Invoke-Command -ComputerName $computer -ArgumentList ([string]$p.name) -ScriptBlock {
            param($name)
            $c = Get-PSSessionConfiguration -Name $name -ErrorAction SilentlyContinue
            if (-not $c) { return $null }
            $roles = @{}
            if ($c.PSObject.Properties['RoleDefinitions'] -and $c.RoleDefinitions) {
                foreach ($key in $c.RoleDefinitions.Keys) {
                    $roles[[string]$key] = @{ roleCapabilities = @($c.RoleDefinitions[$key].RoleCapabilities) }
                }
            }
            $get = { param($prop) if ($c.PSObject.Properties[$prop]) { $c.$prop } else { $null } }
            [ordered]@{
                name                       = $c.Name
                groupManagedServiceAccount = & $get 'GroupManagedServiceAccount'
                runAsVirtualAccount        = [bool](& $get 'RunAsVirtualAccount')
                sessionType                = [string](& $get 'SessionType')
                description                = & $get 'Description'
                roleDefinitions            = $roles
                transcriptDirectory        = & $get 'TranscriptDirectory'
                visibleFunctions           = @(& $get 'VisibleFunctions')
            }
        }
    }
    catch [System.Management.Automation.Remoting.PSRemotingTransportException] {
        $state = $null
        try {
            $cim = New-CimSession -ComputerName $computer -SessionOption (New-CimSessionOption -Protocol Dcom)
            $state = (Get-CimInstance -CimSession $cim -ClassName Win32_Service -Filter "Name='WinRM'").State
            Remove-CimSession $cim
        }
        catch { }
        if ($state -eq 'Stop Pending') {
            throw [System.Management.Automation.Remoting.PSRemotingTransportException]::new(
                "WinRM on $computer is stuck in StopPending after a registration: stop the svchost that hosts it and start WinRM")
        }
        throw
    }
}
